"""A second opinion on what a message asks, learned from the labelled examples (examples.tsv, built
from the dev sets and the first corpus by tests/support/examples.py; the held-out sets never go in).

The rules (commands/ask/cues.py) know the phrasings someone wrote down; people keep finding new ones.
A linear model over word and character n-grams, trained on every labelled message, generalises
further: scored on each blind dev set with the others as its training data, it reads the first intent
of 95–97 % of its messages, where the rules had understood 80–88 % of the first dev sets before being
tuned on them (bench/qa_left_out.py). Names are masked before
the model sees a message ("is payment fresh?" → "is xent fresh ?"), so it learns how questions are
put, not the demo's names, and works on any team's catalog.

scikit-learn, the library made for this: a vectoriser and a logistic regression, trained once per
machine (3–5 s on 5,000 examples, off the event loop: bot/wiring.py; then kept, see _model); a guess
then costs about a millisecond.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import pickle
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import NamedTuple

import sklearn
from sklearn import config_context
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from commands.ask.described import described_as, otherwise_named
from commands.ask.lemmas import lemma
from commands.ask.subjects import Vocabulary, words_of

EXAMPLES = Path(__file__).with_name("examples.tsv")
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "amd-bot"
_WORD = r"[a-z0-9_?]+"  # a word, or the question mark that makes a message a question
CHATTER = "none"  # the label of a message that asks the bot nothing
# What a masked name becomes: the kind of thing named, never its name.
ENTITY, MIGRATION, DAG, TEST, COLUMN, OWNER = "xent", "xmig", "xdag", "xtest", "xcol", "xowner"
log = logging.getLogger(__name__)


def masked(text: str, vocab: Vocabulary) -> str:
    """The message's words as lemmas, each name (of up to three words) replaced by its kind."""
    tokens = words_of(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, used = _kind_at(tokens, i, vocab)
        out.append(kind or lemma(tokens[i]))
        i += used
    return " ".join(out)


def _kind_at(tokens: list[str], i: int, vocab: Vocabulary) -> tuple[str | None, int]:
    for n in (3, 2, 1):  # the longest name first: "delivery address" is one
        if i + n > len(tokens):
            continue
        key = "_".join(tokens[i : i + n])
        if key in vocab.names:
            return ENTITY, n
        if key in vocab.migrations:
            return MIGRATION, n
        if tuple(tokens[i : i + n]) in vocab.owners:
            return OWNER, n
    if short := otherwise_named(tokens, i, vocab, None):  # "pmt", "deliv addr"
        return ENTITY, short[1]
    token = tokens[i]
    if described_as(token, vocab.described, stems=False) and len(token) >= 4:  # "checkouts"
        return ENTITY, 1
    if vocab.dag_like(token):
        return DAG, 1
    if token in vocab.tests:
        return TEST, 1
    if "." in token or (token in vocab.columns and token not in vocab.explained):
        return COLUMN, 1
    return None, 1


class Example(NamedTuple):
    label: str
    written_for: str  # the labelled set it comes from: tests/qa/<written_for>.yaml
    text: str  # masked


def examples() -> list[Example]:
    lines = EXAMPLES.read_text().splitlines()
    return [Example(*line.split("\t", 2)) for line in lines if line and not line.startswith("#")]


def prepare() -> None:
    """Train the model now (seconds: call it off the event loop), not on the first question."""
    _model()


@cache
def _model() -> Pipeline:
    """Trained once per machine, not once per process: the model is kept in the user's cache directory
    under a name that changes with the examples, the training code and scikit-learn's version, so a
    stale one is never loaded. Every bot process (each replica, each `amd-bot console -c`) then starts
    in a fraction of a second instead of 3-5 s. A cache that cannot be read or written is trained past."""
    source = EXAMPLES.read_bytes() + _TRAINING.encode() + sklearn.__version__.encode()
    kept = CACHE / f"intent-model-{hashlib.sha256(source).hexdigest()[:16]}.pickle"
    try:
        if _only_mine(kept):  # a pickle runs code when loaded: only one nobody else could have written
            with kept.open("rb") as stored:
                model: Pipeline = pickle.load(stored)  # noqa: S301 (ours: see _only_mine)
            return model
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        log.debug("no kept intent model at %s (%s): training one", kept, exc)
    model = trained(examples())
    try:
        CACHE.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=CACHE, prefix=".intent-model-", delete=False) as new:
            try:
                pickle.dump(model, new, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                os.unlink(new.name)
                raise
        os.replace(new.name, kept)  # atomic: a process starting meanwhile reads the whole file or none
        for older in CACHE.glob("intent-model-*.pickle"):  # the examples or the code changed since
            if older != kept:
                older.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("could not keep the intent model at %s: %s", kept, exc)
    return model


def _only_mine(path: Path) -> bool:
    """The file and its directory belong to this user, and neither group nor others may write them."""
    me = os.getuid() if hasattr(os, "getuid") else None  # Windows: no owners to compare
    for p in (path.parent, path):
        st = p.stat()
        if st.st_mode & 0o022 or me not in (None, st.st_uid):
            log.warning("not loading %s: %s may be written by others", path, p)
            return False
    return True


def trained(on: Sequence[Example]) -> Pipeline:
    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=_WORD),
    )
    # C chosen, like the n-grams, by how well each blind dev set was understood when left out.
    model: Pipeline = make_pipeline(features, LogisticRegression(C=30, max_iter=5000))
    return model.fit([e.text for e in on], [e.label for e in on])


_TRAINING = inspect.getsource(trained)  # a change to how the model is trained is a new kept model


@contextmanager
def using(model: Pipeline) -> Iterator[None]:
    """Guess with `model` instead of the one trained on every example: bench/qa_left_out.py scores a dev
    set with a model trained without it."""
    _STAND_IN.append(model)
    try:
        yield
    finally:
        _STAND_IN.pop()


_STAND_IN: list[Pipeline] = []


def guess(text: str, vocab: Vocabulary) -> tuple[str, float]:
    """The label the model finds likeliest for `text`, and its probability."""
    model = _STAND_IN[-1] if _STAND_IN else _model()
    # The inputs are the model's own features: checking them again cost three times the guess at p99.
    with config_context(assume_finite=True, skip_parameter_validation=True):
        probabilities = model.predict_proba([masked(text, vocab)])[0]
    best = int(probabilities.argmax())
    return str(model.classes_[best]), float(probabilities[best])
