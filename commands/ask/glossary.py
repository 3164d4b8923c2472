"""The data-status words of other languages, in English: teams ask around their tables' English names in
their own words ("a tabela de purchase atualizou hoje?", "wer ist owner von user?", "le payment était à
jour à 6h ?"). Each word or phrase a data person would ask with in Portuguese, Spanish, French, German,
Italian, Dutch, Polish or Turkish (and the commonest in the Nordic languages, Romanian, Croatian and
romanised Hindi) becomes the English one before anything reads the message, so the rules and the learned
model read one language. Only data-status words: everyday talk stays as it was
written, and stays chatter. A name the catalog knows is never glossed. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

from commands.ask.subjects import Vocabulary


def _folded(text: str) -> str:
    """`text` without its accents, letter for letter (so that places in it are places in `text`)."""
    return "".join(unicodedata.normalize("NFD", c)[0] for c in text)


# English → what is said for it, accents dropped (they are dropped from the message to match: people
# type "a jour" as often as "à jour"). Words English also has in another sense are left out ("was",
# "hier", "die", "vers", "record").
_SAID_FOR = {
    # who, what, when, why, how many
    "who is": "quem e|quien es|wer ist|qui est|chi e|wie is|kto jest|c'est qui|a quien|quien|wem|kto|kaun",
    "who owns": "qui s'occupe de|qui s'occupe|quem cuida de|quem cuida|quien se encarga de|"
    "wer kummert sich um|sahibi kim|wer kummert sich|wem gehort|tiene a cargo|kim sorumlu",
    "what is": "o que e|que es|qu'est-ce que|c'est quoi|cos'e|wat is|co to jest|nedir|was steht in|"
    "que hay en|o que tem|cosa c'e in|wat zit er in",
    "what does it mean": "que veut dire|que significa|q significa|o que significa|was bedeutet|"
    "cosa significa|wat betekent|co oznacza|co znaczy|ne demek|que quiere decir|wat houdt in|ne anlatiyor|"
    "ne anlatıyor",
    "when": "quando|cuando|wann|quand|wanneer|kiedy|ne zaman|nar|cand|kada|kab",
    "why": "por que|warum|wieso|weshalb|pourquoi|perche|waarom|dlaczego|czemu|neden|niye|kyun|kyon",
    "how many": "quantas|quantos|cuantas|cuantos|wie viele|wieviele|combien de|combien|quante|quanti|"
    "hoeveel|kac|kitne|kitni|kitna",
    "how long until": "quanto falta|cuanto falta|wie lange noch|combien de temps|quanto manca|"
    "hoe lang nog|ile jeszcze",
    "where does it come from": "de onde vem|de onde vêm|de donde viene|de donde vienen|woher kommen|"
    "woher kommt|d'ou vient|d'ou viennent|da dove viene|da dove vengono|waar komt|skad pochodzi|"
    "nereden geliyor|da dove arrivano|skad pochodza|skąd pochodzą|woher|de donde|d'ou",
    "can you": "puoi|podes|pode|puedes|kannst du|konnen sie|peux-tu|tu peux|pouvez-vous|kun je|kan je|"
    "mozesz|yapabilir misin",
    # the data, its tables and rows
    "data": "dados|datos|daten|donnees|dati|gegevens|veri|verileri",
    "table": "tabela|tabla|tabelle|tabella|tabel|tabeli|tablo|tablosu|tablosunun",
    "rows": "linhas|filas|registros|zeilen|datensatze|lignes|righe|rijen|wierszy|wiersze|rekordow|satir|"
    "kayit|satır|kayıt",
    "columns": "colunas|columnas|spalten|colonnes|colonne|kolommen|kolumny|sutunlar|sütunlar",
    "values": "valores|werte|valeurs|valori|waarden|wartosci|degerler",
    "number of": "numero de|nombre de|anzahl|numero di|aantal|liczba",
    "owner": "dono|dona|propietario|proprietario|proprietaire|eigentumer|verantwortlich|verantwortliche|"
    "zustandig|referente|responsavel|eigenaar|wlasciciel|właściciel|sahibi|sorumlu|eier|ejer|agare|"
    "proprietar|vlasnik",
    # how the data is
    "up to date": "a jour|atualizada|atualizado|atualizadas|atualizados|atualizou|actualizada|"
    "actualizado|actualizadas|actualizados|al dia|aktuell|auf dem neuesten stand|aggiornata|aggiornato|"
    "aggiornati|aggiornate|bijgewerkt|actueel|aktualne|aktualna|aktualny|aktualizowane|guncel|güncel|"
    "actualizaron|actualizo|se actualizo|aktualisiert|aktualisiert worden|rafraichi|rafraichie|"
    "rafraichies|rafraichis|refresca|refrescado|refrescada|atualizaram|oppdatert|oppdaterte|opdateret|"
    "uppdaterad|uppdaterade|la zi|actualizat|actualizate|azurirano|azurirani|azurni",
    "fresh": "fraiche|fraiches|fresca|fresco|frescos|frisch|frische|fresche|freschi",
    "late": "atrasada|atrasado|atrasadas|atrasados|en retard|verspatet|in ritardo|te laat|opozniona|"
    "opoznione|opozniony|gecikme|gecikti|gecikmeli|retraso|con retraso|vertraging|opoznienie|ritardo|"
    "forsinket|forsinka|forsenad|intarzie|intarziat|kasni|kasne",
    "stale": "desatualizada|desatualizado|desactualizada|desactualizado|veraltet|perime|obsoleta|vecchia|"
    "vecchi|verouderd|nieaktualne|eski|velha|velho|vieja|viejo|vieille|vieux|oud|oude",
    "loaded": "carregada|carregado|carregadas|carregados|cargada|cargado|cargadas|cargados|geladen|"
    "chargee|chargees|caricata|caricati|caricate|zaladowane|yuklendi",
    "landed": "chegaram|chegou|llegaron|llegado|llego|angekommen|arrivees|arrives|arrivati|arrivata|"
    "aangekomen|dotarly|geldi",
    "failed": "falhou|falharam|fallo|fallado|fallaron|fehlgeschlagen|gescheitert|echoue|en echec|plante|"
    "fallito|fallita|mislukt|gefaald|nie powiodl|padl|basarisiz|hata verdi|feilet|fejlede|misslyckades|"
    "a esuat|pao",
    "broken": "kaputt|quebrado|quebrada|roto|rotto|rotta|casse|cassee|kapot|stuk|zepsute|zepsuty|bozuk|"
    "rompio|se rompio|wysypalo|wysypało|wysypał|kaputtgegangen|quebrou|ha rotto|si e rotto|planto|toota|tuta|"
    "tooti|tuti|kharab",
    "stuck": "travou|travada|travado|atascada|atascado|se trabo|hangt|bloque|bloquee|bloccata|bloccato|"
    "vastgelopen|utknela|utknal|takildi",
    "ran": "rodou|rodaram|corrio|corrieron|gelaufen|lief|a tourne|tourne|girato|gedraaid|draaide|"
    "uruchomil|calisti|çalıştı|çalisti|ha corrido|corrido|gelaufen ist|chala|chali",
    "running": "rodando|corriendo|lauft|laeuft|tourne encore|in esecuzione|draait|dziala|calisiyor|"
    "çalışıyor|çalisiyor",
    "passed": "passaram|passou|pasaron|paso|bestanden|durchgelaufen|passent|passati|passano|geslaagd|"
    "przeszly|przeszedl|przechodza|gecti|geçti",
    "tests": "testes|pruebas|testy|testi|testler|testleri|testlerin|testene|testerna|testele|testovi",
    "green": "verde|verdes|grun|vert|verts|groen|zielone|yesil",
    "red": "vermelho|vermelhos|rojo|rojos|rot|rouge|rouges|rosso|rossi|rood|czerwone|czerwony|kirmizi|"
    "kırmızı",
    "incident": "incidente|incidentes|storung|vorfall|incidenti|incydent",
    "open": "aberto|abertos|abierto|abiertos|offen|offene|ouvert|ouverts|aperto|aperti|otwarte|acik|açık",
    "migration": "migracao|migração|migracion|migrazione|migratie|migracja|migracji|migrasyon|tasima",
    "validation": "validacao|validação|validacion|validierung|validazione|validatie|walidacja|walidacji|"
    "dogrulama",
    "built from": "construida a partir de|construida com|construida de|costruita da|gebaut aus|"
    "construite a partir de|zbudowana z|besleniyor",
    "dropped": "caiu|cayo|gesunken|baisse|chute|calato|gedaald|spadek|spadla|dustu",
    "all good": "tudo bem|todo bien|tout va bien|alles gut|alles ok|tutto bene|tutto ok|alles goed|"
    "wszystko dziala|wszystko ok|her sey yolunda|alt ok|allt ok|e in regula|totul ok|u redu|sve u redu",
    "anything": "alguma coisa|irgendwas|irgendetwas|quelque chose|qualcosa|iets|bir sey|kuch|kuchh",
    "problem": "problema|problemas|probleme|probleem|problemen|sorun|sorunlar",
    "still": "ainda|todavia|noch|encore|ancora|nog|nadal|hala|hâlâ|continua|sigue|toujours|immer noch|"
    "nach wie vor",
    # the entities' everyday names
    "orders": "pedidos|pedido|ordini|ordine|bestellungen|bestellung|commandes|commande|bestellingen|"
    "zamowienia|siparisler|siparis",
    "payments": "pagamentos|pagamento|pagos|pago|zahlungen|zahlung|paiements|paiement|pagamenti|"
    "betalingen|betaling|platnosci|płatnosci|odemeler|ödemeler",
    "customers": "clientes|cliente|kunden|kundendaten|clienti|klanten|klienci|musteriler|müşteriler|"
    "musteri|müşteri",
    "users": "usuarios|utilisateurs|utenti|gebruikers|uzytkownicy|kullanicilar|kullanıcılar",
    "addresses": "enderecos|direcciones|adressen|adresses|indirizzi|adresy|adresler",
    "address": "endereco|direccion|indirizzo|adres",
    "transactions": "transacoes|transacciones|transaktionen|transazioni|transacties|transakcje|islemler|"
    "işlemler",
    # when
    "yesterday": "ontem|ayer|gestern|ieri|gisteren|wczoraj|dun",
    "today": "hoje|hoy|heute|aujourd'hui|oggi|vandaag|dzisiaj|dzis|bugun|heut|aaj",
    "this morning": "esta manha|hoje de manha|esta manana|heute morgen|heute fruh|ce matin|stamattina|"
    "stamane|vanochtend|vanmorgen|dzis rano|bu sabah|a matin|heute vormittag",
    "last night": "esta noite|ontem a noite|anoche|heute nacht|letzte nacht|cette nuit|stanotte|vannacht|"
    "dzis w nocy|dun gece|dün gece|de madrugada|madrugada|w nocy",
    "yesterday evening": "ayer por la noche|gestern abend|hier soir|ieri sera|gisteravond|"
    "wczoraj wieczorem|dun aksam",
    "morning": "manha|matin|morgen|mattina|ochtend|rano|sabah",
    "evening": "soir|abend|avond|wieczorem|aksam",
    "midnight": "meia-noite|meia noite|medianoche|mitternacht|minuit|mezzanotte|middernacht|polnoc|"
    "gece yarisi",
    "monday": "segunda-feira|lunes|montag|lundi|lunedi|maandag|poniedzialek|pazartesi",
    "tuesday": "terca-feira|martes|dienstag|mardi|martedi|dinsdag|wtorek|sali",
    "wednesday": "quarta-feira|miercoles|mittwoch|mercredi|mercoledi|woensdag|sroda|carsamba",
    "thursday": "quinta-feira|jueves|donnerstag|jeudi|giovedi|donderdag|czwartek|persembe",
    "friday": "sexta-feira|viernes|freitag|vendredi|venerdi|vrijdag|piatek|cuma",
    "was": "estava|estavam|estaba|estaban|etait|etaient|era|erano|byl|byla|byly|był|była|były|miydi|"
    "miydı|idi",
    # asked of the bot to do, not to tell
    "rerun": "relancer|relance|relancez|rodar de novo|neu starten|rilanciare|rilancia|opnieuw draaien",
    "pause": "pausar|pausa el|pausieren|mettre en pause|mettez en pause|metti in pausa|pauzeer|wstrzymaj|"
    "pausiere|pauseer|pausa la",
    "fix": "corrigir|corregir|korrigieren|corriger|correggere|corrigeren|popraw|duzelt",
    "change": "mudar|alterar|cambiar|andern|changer|modifier|cambiare|modificare|wijzigen|zmienic|degistir",
    "delete": "apagar|borrar|loschen|supprimer|cancellare|verwijderen|usun|sil",
    "mark": "marcar|markieren|marquer|marquez|segnare|markeer|oznacz|isaretle|marca|markiere|segna",
    "how far along": "wie weit|hoe ver|jak daleko|ne kadar",
    "is there": "tem|hay|gibt es|gibt's|y a-t-il|y'a|il y a|c'e|is er|var mi|var mı",
    "any": "algum|alguma|algun|alguna|irgendein|irgendeine|qualche|jakis|jakiś|herhangi",
    "and": "e|y|et|und|ve",
    "if not": "si no|se nao|wenn nicht|falls nicht|sinon|se no|als niet",
    "are": "sind|zijn",
    "now": "agora|ahora|jetzt|maintenant|adesso|ora|nu|teraz|simdi|şimdi",
    "last": "ultima|ultimo|letzte|letzten|dernier|derniere|laatste|ostatni|ostatnie",
    "load": "carga|ladung|chargement|caricamento|lading|ladowanie",
    "did not run": "calismadi|çalışmadı|no corrio|nao rodou|ist nicht gelaufen|n'a pas tourne|non e girato",
    "fail": "falliscono|fallan|falham|scheitern|echouent|falen",
    "passing": "pasan|passam|geciyor|geçiyor|laufen durch",
    "channel": "canal|kanaal|kanal|canale",
    "which channel": "welk kanaal|que canal|qual canal|welcher kanal|quel canal|quale canale",
    "maintains": "mantiene|mantem|pflegt|maintient|onderhoudt|utrzymuje",
    "currencies": "monedas|moedas|wahrungen|devises|valute|valuta|waluty",
    "countries": "paises|lander|pays|paesi|landen|kraje|ulkeler",
    "sources": "fuentes|fontes|quellen|fonti|bronnen|zrodla|źródła|kaynaklar",
    "from which": "aus welchen|de quelles|da quali|uit welke|z jakich",
    "built": "se construye|gebaut|construit|costruito|costruita|gebouwd|zbudowana|construida",
    "depends on": "depende de|dependen de|depend de|dependent de|hangt af van|haengt ab von|hangt ab von|"
    "dipende da|zalezy od|zależy od",
    "downstream": "en aval|a jusante|aguas abajo|stromabwarts|a valle|stroomafwaarts",
    "upstream": "en amont|a montante|aguas arriba|stromaufwarts|a monte|stroomopwaarts",
    "migrated": "overgezet|migrados|migradas|migriert|migres|migrati|zmigrowane|tasindi",
    "per day": "por dia|pro tag|par jour|al giorno|per dag|dziennie|gunluk|günlük",
    "fewer than usual": "menos que lo normal|menos do que o normal|weniger als sonst|"
    "moins que d'habitude|meno del solito|minder dan normaal|mniej niz zwykle",
    "fewer": "menos|weniger|moins|meno|minder|mniej|daha az",
    "than usual": "del solito|que lo normal|als sonst|que d'habitude|dan normaal|niz zwykle|her zamankinden",
    "active": "activo|activa|aktiv|actif|attivo|actief|aktywny|aktif",
    "was the": "war die|war der|war das",
    "restore": "geri yukle|geri yükle|restaurar|wiederherstellen|restaurer|ripristinare|herstellen|przywroc",
    "add": "agregar|anadir|hinzufugen|ajouter|aggiungere|toevoegen|dodaj|ekle",
}
# A time of day as said elsewhere: "à 6h", "às 18h", "a las 9", "um 8 Uhr", "alle 7", "om 9 uur", "o 17:00",
# "9'da": the English "at 6:00". A bare "a" only where it was "à": "a 12h SLA" is English.
_CLOCK = re.compile(
    r"(?<![\w'])(?P<p>as|a|a las|alle|um|om|o|vers|verso|rond|gegen|hacia|sobre)\s+(?P<h>\d{1,2})\s*"
    r"(?:h|uhr|uur)(?P<m>\d\d)?(?![\w'])|"
    r"(?<![\w'])(?:as|a las|alle|um|om|o)\s+(?P<h2>\d{1,2}):(?P<m2>\d\d)(?![\w'])|"
    r"(?<![\w'])(?:a las|alle)\s+(?P<h4>\d{1,2})(?![\w':])|"
    r"(?<![\w'])(?P<h3>\d{1,2})(?::(?P<m3>\d\d))?'(?:da|de|ta|te)(?![\w'])"
)
_ENGLISH = {_folded(said): english for english, words in _SAID_FOR.items() for said in words.split("|")}
# a word of its own: not part of "e.g." or of a hyphenated or dotted name
_WORDS = re.compile(
    r"(?<![\w'./-])("
    + "|".join(re.escape(w) for w in sorted(_ENGLISH, key=len, reverse=True))
    + r")(?![\w'/-]|\.\w)"
)


def glossed(text: str, vocab: Vocabulary) -> str:
    """`text` (lower case) with the data-status words of other languages in English; the catalog's
    names (entities, aliases, columns, migrations) stay as they are."""
    folded = _folded(text)
    if folded.isascii() and not _WORDS.search(folded) and not _CLOCK.search(folded):
        return text  # the usual case, English: nothing to do
    out, at = [], 0
    for found in _CLOCK.finditer(folded):
        if found["p"] == "a" and text[found.start()] == "a":
            continue
        hour = found["h"] or found["h2"] or found["h3"] or found["h4"]
        minute = found["m"] or found["m2"] or found["m3"] or "00"
        out += [text[at : found.start()], f"at {hour}:{minute}"]
        at = found.end()
    out.append(text[at:])
    text = "".join(out)
    folded, out, at = _folded(text), [], 0
    for found in _WORDS.finditer(folded):
        said = found.group(1)
        if said in vocab.names or said in vocab.columns or said in vocab.migrations:
            continue
        english = "is" if text[found.start() : found.end()] in ("é", "è") else _ENGLISH[said]  # "e" is "and"
        out += [text[at : found.start()], english]
        at = found.end()
    out.append(text[at:])
    return "".join(out)
