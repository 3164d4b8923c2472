"""Are the dbt tests green? From the test results amd-bot stored when it ran them (`/amd test`)."""

from __future__ import annotations

from bot.core.command import Ctx
from bot.foundation.catalog import Catalog
from bot.render import format as fmt
from bot.state.results import FAILED, StoredTest, TestResults
from commands.ask import causes
from commands.ask.access import left_out, may
from commands.ask.intent import Answer, Intent, Question, phrases

SHOWN = 5
SOURCE = "the dbt test results amd-bot stored"


def _failing(tests: list[StoredTest]) -> list[str]:
    bad = [t for t in tests if t.status in FAILED]
    lines = [
        f"• `{t.name}`: {t.status}, {fmt.counted(t.failures, 'failing row')} ({fmt.when(t.at)})" for t in bad
    ]
    return lines[:SHOWN] + ([f"…and {len(bad) - SHOWN} more"] if len(bad) > SHOWN else [])


async def fetch(question: Question, ctx: Ctx) -> Answer:
    if question.why and question.entity:  # the failing tests with their rows, and what else went wrong
        return await causes.answer(ctx.catalog.entities[question.entity], ctx)
    results = TestResults(ctx.backends.state.engine)
    now = ctx.now()
    if question.entity is None:
        everything = await results.latest()
        latest = [t for t in everything if may(ctx, f"test:{_entity_of(t, ctx.catalog)}")]
        hidden = left_out(len(everything) - len(latest))
        bad = _failing(latest)
        if not latest:
            return Answer(("No dbt test results are stored yet.", *hidden), SOURCE, now, "test")
        head = (
            f":x: {sum(t.status in FAILED for t in latest)} of the {len(latest)} tests on record failed "
            "in their latest run:"
            if bad
            else (f":white_check_mark: All {len(latest)} tests on record passed in their latest run.")
        )
        return Answer((head, *bad, *hidden), SOURCE, max(t.at for t in latest), "test")
    entity = ctx.catalog.entities[question.entity]
    latest = await results.latest(entity.tests)
    name = f"`{entity.name}`"
    if not latest:
        lines = (f"No results are stored for the {len(entity.tests)} dbt tests of {name} yet.",)
        return Answer(lines, SOURCE, now, f"test {entity.name}", subject=entity.name)
    bad = _failing(latest)
    counts = f"{len(latest)} of its {len(entity.tests)} tests have results"
    head = (
        f":x: {name}: tests failing ({counts}):"
        if bad
        else (f":white_check_mark: {name}: green, every test passed in its latest run ({counts}).")
    )
    return Answer((head, *bad), SOURCE, max(t.at for t in latest), f"test {entity.name}", entity.name)


def _entity_of(test: StoredTest, catalog: Catalog) -> str:
    """The entity a test is on (`test:<entity>`), else its model's name."""
    model = test.model or "*"
    by_model = {e.unique_id: e.name for e in catalog.entities.values()}
    return by_model.get(model, model.rsplit(".", 1)[-1])


def reads(question: Question, _catalog: Catalog) -> tuple[str, ...]:
    return (f"test:{question.entity}",) if question.entity else ()


INTENT = Intent(
    name="tests",
    label="dbt tests",
    words=frozenset(
        [
            "test",
            "tests",
            "tested",
            "testing",
            "dq",
            "pass",
            "passing",
            "duplicate",
            "duplicates",
            "not_null",
            "accepted_values",
            "relationships",
            "assertion",
            "assertions",
            "quality",
            "fail",
            "failed",
            "failing",
            "failure",
            "failures",
            "unique",
            "validation",
            "validations",
            "validate",
            "validated",
        ]
    ),
    phrases=phrases(r"data quality", r"not null", r"checks"),
    # The everyday verb ("can someone check", "a health check") and the tool's name ("the dbt meetup"):
    # alone they decide only about a subject; with another test cue they tip it ("what's failing in dbt?").
    weak=phrases(r"check", r"dbt"),
    subject="any",
    fetch=fetch,
    reads=reads,
)
