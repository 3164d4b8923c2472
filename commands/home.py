"""`/amd home`: the state at a glance — open incidents, entity freshness, the latest runs, failing dbt
tests and migrations — as Slack's App Home tab shows it to each user (bot/surfaces/answers.py
publishes it when the tab is opened). Built from the same services and views as `/amd alerts`,
`stats`, `run status`, `test` and `migration`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from pydantic import BaseModel

from bot.alerts.views import open_lines
from bot.alerts.watch import last_sweep
from bot.core.backends import Backends
from bot.core.command import Command, Ctx
from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.render import format as fmt
from bot.render.message import Context, Divider, Header, Message, Part, Text
from bot.state.incidents import Incidents
from bot.state.results import FAILED, TestResults
from commands import stats
from commands.alerts import unresolved
from commands.migration import ledger_of
from commands.migration import views as migration_views
from commands.run import views as run_views
from commands.run.args import STATUS_RUNS

SHOWN_FAILURES = 10
SHOWN_INCIDENTS = 5


class HomeArgs(BaseModel):
    pass


def parse(words: Sequence[str], _catalog: Catalog) -> HomeArgs:
    if words:
        raise UsageError("`home` takes no arguments.")
    return HomeArgs()


async def build(backends: Backends, *, now: datetime, prefix: str, user: str, channel: str) -> Message:
    """Each part covers only what `user` may read there (the action its command needs), and the
    header says how many subjects were left out."""
    catalog = backends.catalog

    def may(action: str) -> bool:
        return backends.policy.check(action, user=user, channel=channel).allowed

    entities = [e for e in catalog.entities.values() if may(f"stats:{e.name}")]
    freshness = stats.view_all(await backends.stats.status(entities), catalog)
    known = sorted(set(await backends.orchestrator.list_dags()) | set(catalog.dags()))
    dags = [d for d in known if may(f"runs:{d}")]
    runs = run_views.status_card(None, await backends.orchestrator.latest_runs(dags, STATUS_RUNS), now=now)
    ledger = ledger_of(backends)
    names = [name for name in ledger.specs if may(f"migration:{name}")]
    migrations = migration_views.listing([await ledger.progress(name, now=now) for name in names])
    by_model = {e.unique_id: e.name for e in catalog.entities.values()}
    every = [t for t in await TestResults(backends.state.engine).latest() if t.status in FAILED]
    failing = [t for t in every if may(f"test:{by_model.get(t.model or '', '*')}")]
    hidden = len(catalog.entities) - len(entities) + len(known) - len(dags) + len(ledger.specs) - len(names)
    hidden += len(every) - len(failing)
    tests: list[Part] = [Header("Failing dbt tests")]
    lines = [
        f"• `{t.name}` ({(t.model or '—').rsplit('.', 1)[-1]}): {t.status}, {fmt.when(t.at)}"
        for t in failing[:SHOWN_FAILURES]
    ]
    tests.append(Text("\n".join(lines) if lines else "None among the results on record."))
    parts: list[Part] = [
        Header("amd-bot · data status"),
        Context((f"Built {fmt.when(now)} · ask me in a help channel or here · `{prefix} help`",)),
        *([Context((f"{fmt.counted(hidden, 'subject')} you may not read left out.",))] if hidden else []),
        *await _incidents(backends, now=now, prefix=prefix, may=may),
        Divider(),
        *freshness.parts,
        Divider(),
        *runs.parts,
        Divider(),
        *tests,
        Divider(),
        *migrations.parts,
    ]
    return Message(tuple(parts), fallback=f"amd-bot data status, {fmt.when(now)}")


async def _incidents(
    backends: Backends, *, now: datetime, prefix: str, may: Callable[[str], bool]
) -> list[Part]:
    store = Incidents(backends.state.engine)
    swept = await last_sweep(store)
    if swept is None:
        return [
            Header("Open incidents"),
            Text(f"The failure watcher has not swept yet: `{prefix} alerts check`."),
        ]
    every = await unresolved(store, entity=None, owner=None)
    found = [i for i in every if may(f"alerts:{i.entity or i.owner or '*'}")]
    lines = open_lines(found, now=now, which="all entities", shown=SHOWN_INCIDENTS, unread=swept.unread)
    said = f"As of the watcher's last sweep, {fmt.when(swept.at)} · `{prefix} alerts` lists them all"
    if len(every) > len(found):
        said += f" · {len(every) - len(found)} you may not read left out"
    return [Header("Open incidents"), Text("\n".join(lines)), Context((said,))]


async def handle(_args: HomeArgs, ctx: Ctx) -> Message:
    prefix = ctx.backends.settings.command
    return await build(ctx.backends, now=ctx.now(), prefix=prefix, user=ctx.user, channel=ctx.channel)


command = Command(
    name="home",
    summary="The state at a glance, as the App Home tab shows it: incidents, freshness, runs, tests, "
    "migrations.",
    usage="home",
    examples=("home",),
    parse=parse,
    handle=handle,
    permission=lambda _args: "home",
    ack=lambda _args: "Gathering the state…",
)
