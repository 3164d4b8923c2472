"""The learned second opinion (commands/ask/learned.py): trained only on the sets the rules were tuned
on, built from them as committed, generalising to a blind set it was not trained on, blind to the
demo's names, and heard only where it fits what the message names."""

from __future__ import annotations

import stat
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.ask import learned
from commands.ask.intents import INTENTS
from commands.ask.learned import EXAMPLES, Example, examples, guess, masked, trained
from commands.ask.markup import plain
from commands.ask.subjects import Vocabulary
from commands.ask.understand import understand
from tests.support.examples import BOT_USER, TRAINED_ON, built
from tests.test_qa_understanding import vocabularies  # noqa: F401

# Each blind dev set, left out of the training data, is understood by the model alone: 92–99 % of each in
# December 2026 (the rules had understood 80–88 % of the first ones before being tuned on them). The sets
# are left out a third at a time (grouped cross-validation: three trainings, not one per set, as the sets
# grow by two a round; six had cost the suite a minute more for the same floors), so each is scored by a
# model that never saw it nor a third of the others.
LEFT_OUT_FLOOR = 0.9
# ... but for dev_15, whose writers describe the data instead of naming it ("the card captures table",
# Portuguese and German words): 86.3 % when it joined, 88.0 % once described entities were masked too.
# dev_18, written mostly in other languages around English table names, was 65.4 % when it joined; with their
# words read as English (commands/ask/glossary.py) and dev_20 in the data, 93.8 %.
FLOORS = {"dev_15": 0.87}
FOLDS = 3
DEV_SETS = [name for name in TRAINED_ON if name.startswith("dev")]


def test_the_examples_are_the_tuned_sets_as_committed(vocabularies: dict[str, Vocabulary]) -> None:  # noqa: F811
    assert EXAMPLES.read_text() == built(vocabularies), "run `python -m tests.support.examples`"
    assert {e.written_for for e in examples()} == set(TRAINED_ON)  # never a held-out set


@pytest.mark.parametrize("fold", range(FOLDS))
def test_each_blind_set_left_out_of_the_training_is_understood(fold: int) -> None:
    left_out = DEV_SETS[fold::FOLDS]
    model = trained([e for e in examples() if e.written_for not in left_out])
    low = {}
    for name in left_out:
        blind = [e for e in examples() if e.written_for == name]
        said = model.predict([e.text for e in blind])
        right = sum(label == e.label for label, e in zip(said, blind, strict=True)) / len(blind)
        misses = Counter(
            f"{e.label}→{label}" for label, e in zip(said, blind, strict=True) if label != e.label
        )
        print(f"\n{name} left out: {right:.1%} of {len(blind)}; misses {misses.most_common(5)}")
        if right < FLOORS.get(name, LEFT_OUT_FLOOR):
            low[name] = f"{right:.1%}"
    assert not low, low


def test_names_are_masked_by_kind_on_any_catalog(vocabularies: dict[str, Vocabulary]) -> None:  # noqa: F811
    demo, harbour = vocabularies["demo"], vocabularies["harbour"]
    assert masked("is the delivery address data fresh?", demo) == "is the xent data fresh ?"
    assert masked("did amd_nightly fail on purchase.currency?", demo) == "did xdag fail on xcol ?"
    assert masked("did amd_payment fail?", demo) == "did xent fail ?"  # an entity's own DAG names it
    assert masked("who owns port calls", harbour) == "who own xent"
    assert masked("who owns port calls", demo) == "who own port call"  # another catalog's names


def _understood(text: str, vocab: Vocabulary) -> tuple[tuple[str, ...], str | None]:
    question = understand(plain(text, bot_user=BOT_USER).text, vocab, INTENTS)
    return question.intents, question.entity


def test_the_model_fills_in_a_phrasing_no_rule_knows(vocabularies: dict[str, Vocabulary]) -> None:  # noqa: F811
    asked = "dumb question but what does the currency field on purchase hold"
    assert guess(asked, vocabularies["demo"])[0] == "meaning"
    assert _understood(asked, vocabularies["demo"]) == (("meaning",), "purchase")


def test_the_model_keeps_everyday_trouble_out_of_the_channel(vocabularies: dict[str, Vocabulary]) -> None:  # noqa: F811
    assert _understood("is the kettle broken again", vocabularies["demo"]) == ((), None)


def test_a_named_subject_is_taken_for_chatter_only_by_a_very_sure_model(
    vocabularies: dict[str, Vocabulary],  # noqa: F811
) -> None:
    """The model may find chatter likeliest, but a message naming a known subject gets its status unless the
    model is 90 % sure (opinion.SILENCE). A real model trained on the message alone, as sure as its labels
    are many: the shipped model's reading of any one message moves each time its data grows."""
    vocab = vocabularies["demo"]
    asked = "has anyone touched purchase since monday's deploy?"
    seen = masked(asked, vocab)
    for chatter, status, said in ((3, 2, ("status",)), (19, 1, ())):
        model = trained([Example("none", "t", seen)] * chatter + [Example("status", "t", seen)] * status)
        with learned.using(model):
            assert guess(asked, vocab)[0] == "none"
            assert _understood(asked, vocab)[0] == said


def test_what_the_rules_heard_as_a_question_about_all_the_data_is_silenced_only_by_a_sure_model(
    vocabularies: dict[str, Vocabulary],  # noqa: F811
) -> None:
    """A model half sure it is chatter may not silence "all green before the 9am sync?": silence reads as
    "the bot is broken". A real model, trained on the message alone, as sure as its labels are many."""
    vocab = vocabularies["demo"]
    asked = "all green before the 9am sync?"
    seen = masked(asked, vocab)
    for chatter, overall, said in ((3, 2, ("overall",)), (19, 1, ())):
        model = trained([Example("none", "t", seen)] * chatter + [Example("overall", "t", seen)] * overall)
        with learned.using(model):
            assert guess(asked, vocab)[0] == "none"
            assert _understood(asked, vocab) == (said, None)


def test_an_entitys_question_about_nothing_named_is_asked_back_only_about_data(
    vocabularies: dict[str, Vocabulary],  # noqa: F811
) -> None:
    """The model hears lineage in "where does the fruit basket come from?", but nothing is named and it is
    no data talk: asking back "About which entity?" would answer the channel's chatter."""
    vocab = vocabularies["demo"]
    assert guess("where does the fruit basket come from?", vocab)[0] == "lineage"
    assert _understood("where does the fruit basket come from?", vocab) == ((), None)


@pytest.fixture
def kept_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The model kept in a cache directory of the test's own, trained on a few examples (fast)."""
    cache = tmp_path / "cache"
    monkeypatch.setattr(learned, "CACHE", cache)
    few = [e for e in examples() if e.written_for == "dev_2"]
    monkeypatch.setattr(learned, "examples", lambda: few)
    learned._model.cache_clear()
    yield cache
    learned._model.cache_clear()  # the next test's guesses use the real model again


def test_the_model_is_trained_once_per_machine_and_kept_for_the_next_process(
    kept_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = learned._model()
    (kept,) = kept_in.glob("intent-model-*.pickle")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(kept_in.stat().st_mode) == 0o700

    learned._model.cache_clear()  # as a new process
    monkeypatch.setattr(learned, "trained", lambda on: pytest.fail("trained again instead of loading"))
    again = learned._model()
    assert list(again.classes_) == list(first.classes_)
    assert again.predict(["who own xent ?"]) == first.predict(["who own xent ?"])


def test_a_kept_model_others_could_write_or_that_is_torn_is_trained_again(
    kept_in: Path, caplog: pytest.LogCaptureFixture
) -> None:
    learned._model()
    (kept,) = kept_in.glob("intent-model-*.pickle")
    kept.chmod(0o666)  # another user may have put code in it: a pickle runs code when loaded
    learned._model.cache_clear()
    assert learned._model().predict(["who own xent ?"])[0] == "owner"
    assert "may be written by others" in caplog.text and stat.S_IMODE(kept.stat().st_mode) == 0o600

    kept.write_bytes(kept.read_bytes()[:1000])  # a disk that filled up, a copy cut short
    learned._model.cache_clear()
    assert learned._model().predict(["who own xent ?"])[0] == "owner"
    assert len(kept.read_bytes()) > 1000 and list(kept_in.iterdir()) == [kept]  # no temporary file left
