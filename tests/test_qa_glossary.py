"""Other languages' data-status words read as English (commands/ask/glossary.py): what is glossed, what
never is."""

from __future__ import annotations

import pytest

from commands.ask.glossary import glossed
from commands.ask.subjects import Vocabulary


def _vocab(*names: str) -> Vocabulary:
    return Vocabulary({n: n for n in names}, {}, {}, frozenset(), frozenset())


@pytest.mark.parametrize(
    ("said", "read"),
    [
        ("le payment était à jour à 6h ce matin ?", "le payment was up to date at 6:00 this morning ?"),
        ("a tabela de purchase atualizou hoje?", "a table de purchase up to date today?"),
        ("wie viele zeilen hat user?", "how many rows hat user?"),
        ("quem é o dono de user?", "who is o owner de user?"),  # accents or none, the same words
        ("quem e o dono de user?", "who is o owner de user?"),
        ("war user gestern um 8 uhr frisch?", "war user yesterday at 8:00 fresh?"),
        ("czy wczoraj o 17:00 user był aktualny?", "czy yesterday at 17:00 user was up to date?"),
        ("dün 9'da user güncel miydi?", "yesterday at 9:00 user up to date was?"),
        ("user è aggiornata e chi è l'owner?", "user is up to date and who is l'owner?"),  # "è" is, "e" and
        ("¿hay algún incidente activo ahora?", "¿is there any incident active now?"),
    ],
)
def test_other_languages_data_status_words_are_read_in_english(said: str, read: str) -> None:
    assert glossed(said, _vocab("user", "payment", "purchase")) == read


@pytest.mark.parametrize(
    "said",
    [
        "is a 12h sla too strict?",  # English "a", not French "à"
        "as 9 rows failed, is purchase ok?",
        "cos it's late, is payment fresh?",
        "is the charge data fresh?",  # "chargé" is French, "charge" English
        "alguém vai almoçar?",  # everyday talk: no data word in it
        "is any table late, e.g. payment?",  # "e" is Portuguese "and", but not in "e.g."
        "payment fresh y/n",  # nor is "y" Spanish in "y/n"
    ],
)
def test_english_and_everyday_talk_are_left_as_written(said: str) -> None:
    assert glossed(said, _vocab("user")) == said


def test_a_name_of_the_catalog_is_never_glossed() -> None:
    """A team whose entity is called `pedidos` asks about it by its name."""
    assert glossed("os pedidos estão atualizados?", _vocab("pedidos")) == "os pedidos estão up to date?"
    assert glossed("os pedidos estão atualizados?", _vocab("user")) == "os orders estão up to date?"
