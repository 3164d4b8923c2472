"""Words that carry no name: a word of a question that is none of these, no intent's cue and no name
in the catalog is what the asker thinks an entity is called ("is shipment fresh?" → no entity shipment)."""

from __future__ import annotations

import re

from commands.ask.lemmas import lemma

_WORDS = """
    a about above after again against all am an and any anybody anyone anything are aren as at be
    because been before being below between both but by can cannot could couldn did didn do does doesn
    doing don down during each either else even ever every everything few for from further get gets
    getting go going got had has hasn have haven having he her here hers herself him himself his how i
    if in into is isn it its itself just let like ll me mine more most much must my myself need needs
    neither no nor not now of off ok okay on once one only or other our ours ourselves out over own
    please quick quickly re really right same say she should shouldn so some something still such sure
    than thank thanks that the their theirs them themselves then there these they thing things this
    those through thx to too under until up us very via was wasn we well were weren what whats when
    where whether which while who whom whose why will with won would wouldn yet you your yours yourself
    hey hi hello hiya team folks guys everyone anyone morning afternoon evening night tonight today
    yesterday tomorrow week weeks month months day days hour hours h min mins minute minutes time times
    ago since last past current currently latest recent recently lately usual normal data dataset table
    tables model models entity entities records amd bot amd-bot report reports dashboard dashboards look looks
    looking check checking tell know wondering wonder question quick someone channel link help also
    already actually maybe probably again fine good bad great now soon much many lot lots bit kind sort
    our whole overall mean new old big small see seen show shows showing give us please pls plz btw fyi
    asap real realy open rn nightly overnight vs versus compared compare call dbt daily weekly hourly monthly
    s t d m ve far ongoing active monday tuesday wednesday thursday friday saturday sunday january february
    march april june july august september october november december within without inside outside across
    besides beside beyond among throughout toward towards upon onto kindly utc gmt cet jan feb apr jun jul aug
    sep sept oct nov dec
"""
# ... and the articles and small words of the languages commands/ask/glossary.py reads: "die Tabelle X"
# names X, not "die"
_ABROAD = """
    der die das den dem des ein eine von mit und ist sind auf oder les une des sur dans pour avec est sont
    los las del para por con uma dos das com sao gli della dei degli per sono het een van zijn czy jest
    bir ile hocam
"""
STOPWORDS = frozenset(_WORDS.split()) | frozenset(_ABROAD.split())

# How-is-it words. With a subject named they ask for its status summary. Without one, the trouble words
# (or a word about the data) make a data-status question, answered with the overall status; the mild
# ones alone ("does anyone know a good book?") do not.
_TROUBLE = """
    healthy unhealthy health broken break wrong problem problems issue issues trouble status green red stuck
    weird strange odd off attention damage busted fire fires burning sitrep
"""
_MILD = """
    ok okay fine good news deal doing trust safe normal alright bad happened happening shape state go sanity
    story situation
"""
GENERIC_WORDS = frozenset(_TROUBLE.split()) | frozenset(_MILD.split())
GENERIC = frozenset(lemma(w) for w in GENERIC_WORDS)
TROUBLE = frozenset(lemma(w) for w in _TROUBLE.split())
# All of a subject asked to be told: "tell me about payment", "catch me up on orders, I was out for two
# weeks", "fill me in on payment".
TOLD_ALL = re.compile(r"\btell me about\b|\b(catch|fill|bring) (me|us) (up|in)\b")
GENERIC_PHRASES = (
    TOLD_ALL,
    *(
        re.compile(p)
        for p in (
            r"\bwhat'?s up\b",
            r"\b(anything|something) up with\b",
            r"\bgoing on\b",
            r"\bhow'?s\b",
            r"\bhow (are|is|did)\b",
            r"\b(should|need to|do) (i |we )?(need to )?know\b",
            r"\bgood to go\b",
            r"\b(can|could|should) (i|we) (use|trust)\b",
        )
    ),
)
# About everything at once, without a trouble word: "all good?", "everything ok?".
OVERALL_PHRASES = tuple(
    re.compile(p)
    for p in (
        r"\ball (good|ok|okay|fine|clear|green|quiet|calm|well)\b",
        r"\b(everything|anything) (ok|okay|good|fine|green)\b",
        r"\ball systems (normal|go|green|nominal|ok|okay|good|fine|up)\b",
        # asking to be warned of trouble: "anything I should know?", "can I trust the numbers?"
        r"\b(anything|what) (should |do )?(i|we) (should |need to )?know\b",
        r"\b(can|could|should) (i|we) (use|trust)\b",
        # trouble said in a phrase, no trouble word: "what blew up?", "something not working?"
        r"\b(blew|blown|blow|blows|fell|fall|falls|falling) (up|over)\b",
        r"\bnot (working|running|right)\b",
    )
)


def overall_phrased(text: str) -> bool:
    return any(p.search(text) for p in OVERALL_PHRASES)


# Whether all is well, asked of everything or of using the data: every kind of finding, whatever one
# verb's cue ("did everything run fine last night?" is no question about runs alone). Only with a
# data-status cue: "did everything go well at the offsite?" is chatter.
ALL_WELL = tuple(
    re.compile(p)
    for p in (
        r"\b(everything|all of it)\b(?: \w+){0,3} (ok|okay|good|fine|green|well|smooth|smoothly)\b",
        r"\b(safe|ok|okay|good) to (use|pull|trust|share|publish|send)\b",
    )
)
# Words that put a question about data status, even with no how-is-it word ("why is the data late?").
THE_DATA = frozenset(
    lemma(w)
    for w in [
        "data",
        "pipeline",
        "pipelines",
        "dag",
        "dags",
        "load",
        "loads",
        "loaded",
        "warehouse",
        "amd",
        "model",
        "models",
        "dbt",
        "airflow",
        "entities",
        "tables",
        "dashboards",
    ]
)
# Words only data people use: with nothing named, a question needs one of them (or a word about the data)
# to be put to the bot. "please update your tickets" has a freshness cue, but no data-status one.
_DOMAIN = """
    fresh freshness stale sla lag lagging delayed outdated refresh refreshed landed loaded behind dag dags
    airflow composer pipeline pipelines run runs ran dbt test tests dq not_null unique accepted_values
    relationships incident incidents alert alerts outage fire paged pager owner owners owns oncall lineage
    upstream downstream dependency dependencies seed seeds snapshot snapshots column columns schema
    migration migrations backfill cutover eta rows rowcount records volume anomaly table tables entity
    entities
"""
DOMAIN = frozenset(lemma(w) for w in _DOMAIN.split())
DOMAIN_PHRASES = tuple(
    re.compile(p) for p in (r"\bon[- ]call\b", r"\bsupport channel\b", r"\bpoint of contact\b")
)
# Everyday things, not data: with nothing the bot knows named, a data word said of them is chatter
# ("stale bread in the kitchen", "passed my driving test", "school run is late", "a dbt course").
_EVERYDAY = """
    lunch dinner breakfast brunch coffee tea beer drinks cake pizza food snack bread kitchen fridge
    microwave desk chair parking car driving train bus bike commute traffic weather rain snow holiday
    vacation birthday party meetup conference talk course book movie gym football school kid doctor
    dentist rota spreadsheet hr payroll laptop printer wifi badge flight hotel salary reimbursement
    expense canteen fridge lobby elevator lift tram metro swag hoodie mailroom calendar slides
    cartridge ink toner offsite venue reception catering licence license vpn hiring recruiting interview
    restaurant cafe jira hackathon
"""
EVERYDAY = frozenset(lemma(w) for w in _EVERYDAY.split())
