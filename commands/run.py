"""`/amd run <dag|entity> [key=value …] [--date YYYY-MM-DD]` · `/amd run status [dag]`.

Parsing resolves entities and their DAGs from the catalog only: it runs before Slack's 3-second ack,
so it does no I/O, and a name the catalog does not know passes as a possible DAG id. The handler then
checks every DAG against the orchestrator (one `list_dags`) and answers a typo with a suggestion.
Nothing starts before a confirmation (commands/run_confirm.py); the run's card is then refreshed by
`refresh`, for all run cards at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from bot.cards import CardUpdate, LiveCard
from bot.catalog import Catalog
from bot.command import Action, Command, Ctx, UsageError
from bot.ports import BackendUnavailable, DagRunRef, Orchestrator, TaskState
from bot.render.message import Message
from bot.suggest import unknown
from commands import run_confirm as confirm
from commands import run_views as views

if TYPE_CHECKING:
    from bot.wiring import Backends

log = logging.getLogger(__name__)

DAG_ID = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,249}$"  # Airflow's rule, minus a leading "-" (an option)
CONF_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_CONF_KEYS = 20
MAX_CONF_BYTES = 4096
MAX_DAYS_AHEAD = 1  # a logical date may be tomorrow somewhere on Earth, not later
STATUS_RUNS = 10
_INT = re.compile(r"[+-]?\d+")
MAX_INT_DIGITS = 18  # longer numbers stay text: JSON readers (and Airflow's UI) lose precision
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d{1,3})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

ConfValue = Annotated[StrictBool | StrictInt | StrictFloat | StrictStr, Field(union_mode="left_to_right")]


class RunArgs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["trigger", "status"] = "trigger"
    dag: str | None = Field(None, pattern=DAG_ID)  # None only for `run status` of every DAG
    entity: str | None = None  # the catalog entity the user named, when it was one
    verified: bool = False  # found in the catalog; otherwise the handler asks the orchestrator
    conf: dict[str, ConfValue] = Field(default_factory=dict)
    logical_date: date | None = None

    @field_validator("conf")
    @classmethod
    def _bounded(cls, conf: dict[str, ConfValue]) -> dict[str, ConfValue]:
        if len(conf) > MAX_CONF_KEYS:
            raise ValueError(f"at most {MAX_CONF_KEYS} conf keys")
        for key, value in conf.items():
            if not CONF_KEY.fullmatch(key):
                raise ValueError(f"`{key[:70]}` is not a conf key (letters, digits, _; not a digit first)")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"`{key}` must be a finite number")
        size = len(json.dumps(conf, ensure_ascii=False).encode())
        if size > MAX_CONF_BYTES:
            raise ValueError(f"conf is {size:,} bytes as JSON; at most {MAX_CONF_BYTES:,}")
        return conf

    @field_validator("logical_date")
    @classmethod
    def _not_far_ahead(cls, day: date | None) -> date | None:
        latest = datetime.now(UTC).date() + timedelta(days=MAX_DAYS_AHEAD)
        if day is not None and day > latest:
            raise ValueError(f"{day.isoformat()} is in the future; the latest logical date is {latest}")
        return day

    @model_validator(mode="after")
    def _complete(self) -> RunArgs:
        if self.mode == "trigger" and self.dag is None:
            raise ValueError("which DAG or entity should run?")
        if self.mode == "status" and (self.conf or self.logical_date):
            raise ValueError("`run status` takes no conf and no date")
        return self


def parse(words: Sequence[str], catalog: Catalog) -> RunArgs:
    if not words:
        raise UsageError(f"Which DAG or entity should run? Entities: {', '.join(catalog.entity_names())}.")
    if words[0].lower() == "status":
        if len(words) > 2:
            raise UsageError("`run status` takes at most one DAG or entity.")
        target = _target(words[1], catalog) if len(words) == 2 else {}
        return RunArgs(mode="status", **target)
    conf: dict[str, ConfValue] = {}
    day: date | None = None
    rest = list(words[1:])
    while rest:
        word = rest.pop(0)
        if word == "--date" or word.startswith("--date="):
            if day is not None:
                raise UsageError("`--date` is given twice.")
            day = _date(word.partition("=")[2] if "=" in word else (rest.pop(0) if rest else ""))
        elif word.startswith("-"):
            raise UsageError(f"Unknown option `{word[:40]}`; the only one is `--date YYYY-MM-DD`.")
        elif "=" in word:
            key, _, raw = word.partition("=")
            if key in conf:
                raise UsageError(f"Conf key `{key[:64]}` is given twice.")
            conf[key] = _value(raw)
        else:
            raise UsageError(f"`{word[:40]}` is not `key=value`; conf goes as `key=value` pairs.")
    return RunArgs(**_target(words[0], catalog), conf=conf, logical_date=day)


def _target(word: str, catalog: Catalog) -> dict[str, str | bool]:
    try:
        entity = catalog.entity(word)
    except UsageError:
        entity = None
    if entity is not None:
        if not entity.dag:
            raise UsageError(f"Entity `{entity.name}` has no DAG (no `meta.dag` in dbt).")
        return {"dag": entity.dag, "entity": entity.name, "verified": True}
    if word in catalog.dags():
        return {"dag": word, "verified": True}
    if re.fullmatch(DAG_ID, word):
        return {"dag": word}
    message, guess = unknown("DAG or entity", word, [*catalog.entity_names(), *catalog.dags()])
    raise UsageError(message, suggestion=f"run {guess}" if guess else None)


def _value(raw: str) -> bool | int | float | str:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if _INT.fullmatch(raw):
        return int(raw) if len(raw.lstrip("+-")) <= MAX_INT_DIGITS else raw
    if _FLOAT.fullmatch(raw) and math.isfinite(number := float(raw)):
        return number
    return raw


def _date(raw: str) -> date:
    try:
        if _DATE.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise UsageError(f"`--date` needs a date as YYYY-MM-DD, not `{raw[:40]}`.")


async def handle(args: RunArgs, ctx: Ctx) -> Message:
    orchestrator = ctx.backends.orchestrator
    known = await _known_dags(args, ctx)
    if args.mode == "status":
        dags = [args.dag] if args.dag else sorted(known)
        return views.status_card(args.dag, await orchestrator.latest_runs(dags, STATUS_RUNS), now=ctx.now())
    assert args.dag is not None  # RunArgs guarantees it for a trigger
    settings = ctx.backends.settings
    c = confirm.new_confirmation(
        kind="trigger",
        dag=args.dag,
        requester=ctx.user,
        channel=ctx.channel,
        now=ctx.now(),
        ttl_s=settings.run_confirm_ttl_s,
        conf=args.conf,
        logical_date=datetime.combine(args.logical_date, time(), UTC) if args.logical_date else None,
    )
    ctx.audit_detail.update(dag_id=c.dag, dag_run_id=c.dag_run_id, confirmation=c.id)
    skip = _matches(c.dag, settings.run_skip_confirmation) and not _matches(c.dag, settings.run_production)
    if skip:
        c = replace(c, state="triggered", decided_by=ctx.user)
    await confirm.Confirmations(ctx.backends.state.engine).add(c)
    if skip:
        return await confirm.start_run(c, ctx, entity=args.entity)
    return views.confirmation_card(c, environment=orchestrator.environment, entity=args.entity)


async def _known_dags(args: RunArgs, ctx: Ctx) -> set[str]:
    """Every DAG the orchestrator has, plus the catalog's; a DAG the user named must be one of them."""
    known = set(await ctx.backends.orchestrator.list_dags())
    if args.dag is not None and args.dag not in known:
        catalog = ctx.catalog
        if args.verified:
            where = ctx.backends.orchestrator.environment
            raise UsageError(f"`{args.dag}` is in the dbt catalog but {where} has no such DAG.")
        message, _ = unknown("DAG or entity", args.dag, [*catalog.entity_names(), *catalog.dags(), *known])
        raise UsageError(message)
    return known | set(ctx.catalog.dags())


def _matches(dag: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(dag, p) for p in patterns)


async def refresh(cards: Sequence[LiveCard], backends: Backends) -> Mapping[int, CardUpdate]:
    """Every followed run with ONE get_runs; task states only of runs that run or changed state."""
    orchestrator = backends.orchestrator
    refs = {card.id: _ref(card) for card in cards}
    try:
        runs = {run.ref: run for run in await orchestrator.get_runs(list(dict.fromkeys(refs.values())))}
    except BackendUnavailable as exc:
        log.warning("run cards not refreshed this tick: %s", exc)  # the next tick tries again
        return {}
    memos = {card.id: views.RunMemo.load(card.memo) for card in cards}
    stale = {
        refs[card.id]
        for card in cards
        if (run := runs.get(refs[card.id])) and (run.state == "running" or run.state != memos[card.id].state)
    }
    tasks = await _task_states(orchestrator, stale)
    now, environment = datetime.now(UTC), orchestrator.environment
    updates: dict[int, CardUpdate] = {}
    for card in cards:
        ref, memo = refs[card.id], memos[card.id]
        run = runs.get(ref)
        if run is None:
            updates[card.id] = CardUpdate(views.gone_card(ref.dag_id, ref.run_id, environment=environment))
            continue
        if ref in stale and ref not in tasks:
            continue  # its tasks could not be read; the card stays as it is until the next tick
        memo, changes = views.advance(memo, run, tasks.get(ref))
        message = views.run_card(run, memo, requester=card.requester, environment=environment, now=now)
        notes = (views.changes_note(changes),) if changes else ()
        updates[card.id] = CardUpdate(message, memo.dump(), notes)
    return updates


async def _task_states(orchestrator: Orchestrator, refs: set[DagRunRef]) -> dict[DagRunRef, list[TaskState]]:
    ordered = sorted(refs, key=lambda r: (r.dag_id, r.run_id))
    found = await asyncio.gather(*(orchestrator.task_states(r) for r in ordered), return_exceptions=True)
    result: dict[DagRunRef, list[TaskState]] = {}
    for ref, tasks in zip(ordered, found, strict=True):
        if isinstance(tasks, BaseException):
            log.warning("tasks of run %s of %s not read this tick: %s", ref.run_id, ref.dag_id, tasks)
        else:
            result[ref] = tasks
    return result


def _ref(card: LiveCard) -> DagRunRef:
    dag_id, _, run_id = card.key.partition("/")  # DAG ids have no "/": the first one separates
    return DagRunRef(dag_id, run_id)


def _permission(args: RunArgs) -> str:
    # Reading runs is `runs:…`, so a rule that denies `run:prod_*` (starting them) still lets people look.
    return f"run:{args.dag}" if args.mode == "trigger" else f"runs:{args.dag or '*'}"


def _ack(args: RunArgs) -> str:
    if args.mode == "status":
        return "Reading the latest runs…"
    return f"Preparing the run of `{args.dag}`…" if args.verified else f"Looking for DAG `{args.dag}`…"


command = Command(
    name=confirm.KIND,
    summary="Trigger a DAG run after a confirmation and follow it live; `run status` shows recent runs.",
    usage="run DAG|ENTITY [key=value …] [--date YYYY-MM-DD] | run status [DAG|ENTITY]",
    examples=(
        "run payment",
        "run amd_user full_refresh=true batch=3",
        "run payment --date 2026-11-20",
        "run status",
        "run status payment",
    ),
    parse=parse,
    handle=handle,
    permission=_permission,
    ack=_ack,
    actions={
        "trigger": Action(confirm.press_trigger, confirm.trigger_permission),
        "cancel": Action(confirm.press_cancel, confirm.trigger_permission),
        "rerun": Action(confirm.press_rerun, confirm.rerun_permission),
    },
    refresh=refresh,
    details="An entity runs its DAG. Values are read as numbers or true/false when they look like one. "
    "Nothing starts before you press Trigger; only you or an admin can. Access: `run:<dag>` to run, "
    "`runs:<dag>` to read runs.",
)
