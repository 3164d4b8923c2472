"""Are the dbt tests green? From the test results amd-bot stored when it ran them (`/amd test`)."""

from __future__ import annotations

from bot.core.command import Ctx
from bot.render import format as fmt
from bot.state.results import FAILED, StoredTest, TestResults
from commands.ask.intent import Answer, Intent, Question, phrases

SHOWN = 5
SOURCE = "the dbt test results amd-bot stored"


def _failing(tests: list[StoredTest]) -> list[str]:
    bad = [t for t in tests if t.status in FAILED]
    lines = [
        f"• `{t.name}`: {t.status}, {fmt.count(t.failures)} failing rows ({fmt.when(t.at)})" for t in bad
    ]
    return lines[:SHOWN] + ([f"…and {len(bad) - SHOWN} more"] if len(bad) > SHOWN else [])


async def fetch(question: Question, ctx: Ctx) -> Answer:
    results = TestResults(ctx.backends.state.engine)
    now = ctx.now()
    if question.entity is None:
        latest = await results.latest()
        bad = _failing(latest)
        if not latest:
            return Answer(("No dbt test results are stored yet.",), SOURCE, now, "test")
        head = (
            f":x: {sum(t.status in FAILED for t in latest)} of the {len(latest)} tests on record failed "
            "in their latest run:"
            if bad
            else (f":white_check_mark: All {len(latest)} tests on record passed in their latest run.")
        )
        return Answer((head, *bad), SOURCE, max(t.at for t in latest), "test")
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


INTENT = Intent(
    name="tests",
    label="dbt tests",
    words=frozenset(
        [
            "test",
            "tests",
            "tested",
            "testing",
            "dbt",
            "green",
            "red",
            "assertion",
            "assertions",
            "quality",
            "fail",
            "failed",
            "failing",
            "failure",
            "failures",
        ]
    ),
    phrases=phrases(r"data quality", r"not null", r"unique"),
    subject="any",
    fetch=fetch,
)
