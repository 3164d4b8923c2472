"""How far a history migration is, and when it will be done: from the progress ledger the copy jobs
report into."""

from __future__ import annotations

from bot.core.command import Ctx
from bot.foundation.catalog import Catalog
from bot.render import format as fmt
from commands.ask.access import refused
from commands.ask.intent import Answer, Intent, Pick, Question, phrases
from commands.migration import ledger_of, views


async def fetch(question: Question, ctx: Ctx) -> Answer | Pick:
    ledger = ledger_of(ctx.backends)
    name = question.subjects.migration
    if name is None:
        about = [m for m in ledger.specs if any(e in m for e in question.subjects.entities)]
        candidates = about or list(ledger.specs)
        if len(candidates) != 1:
            if not candidates:
                none = ("No migration is declared (`AMD_MIGRATIONS`).",)
                return Answer(none, "the settings", ctx.now(), "migration")
            return Pick("Which migration?", tuple(candidates))
        name = candidates[0]
    denied = refused(ctx, [f"migration:{name}"])  # found through an entity: checked only now
    if denied is not None:
        return Answer((denied.text,), "the access rules", ctx.now(), "help")
    p = await ledger.progress(name, now=ctx.now())
    title = ledger.specs[name].title or name
    if p.state == "waiting":
        lines = [f"*{title}* has not started: no copy job has reported a chunk yet."]
    else:
        lines = [
            f"*{title}* is {p.state}: {views.percent(p.percent)} ({views.rows(p.rows, p.expected)}), "
            f"rate {views.throughput(p.rate, p.state)}, ETA {views.eta(p)}.",
        ]
    if p.failed:
        lines.append(f":x: {fmt.count(p.failed)} chunks failed.")
    source = "the migration ledger (the copy jobs' reports)"
    return Answer(tuple(lines), source, p.as_of, f"migration {name}", subject=name)


def reads(question: Question, _catalog: Catalog) -> tuple[str, ...]:
    name = question.subjects.migration
    return (f"migration:{name}",) if name else ()


INTENT = Intent(
    name="migrations",
    label="Migration",
    words=frozenset(
        [
            "migration",
            "migrations",
            "migrate",
            "migrating",
            "migrated",
            "backfill",
            "backfilling",
            "copy",
            "copying",
            "eta",
            "progress",
            "cutover",
            "percent",
            "validation",
            "chunk",
            "chunks",
        ]
    ),
    phrases=phrases(r"when will \S+ (be )?(done|finished|complete)"),
    weak=phrases(r"how far"),  # "how far along" is a migration's, "how far behind" a table's
    subject="migration",
    fetch=fetch,
    reads=reads,
)
