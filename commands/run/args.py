"""Parsing `/amd run …` into validated args. Pure: it runs before Slack's 3-second ack, so it does
no I/O; names are resolved from the catalog, and a name it does not know passes as a possible DAG id
for the handler to check against the orchestrator."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.foundation.ports import BackfillOptions, Reprocess
from bot.foundation.suggest import unknown

DAG_ID = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,249}$"  # Airflow's rule, minus a leading "-" (an option)
CONF_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_CONF_KEYS = 20
MAX_CONF_BYTES = 4096
STATUS_RUNS = 10
_INT = re.compile(r"[+-]?\d+")
MAX_INT_DIGITS = 18  # longer numbers stay text: JSON readers (and Airflow's UI) lose precision
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d{1,3})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OPTIONS = {"logical_date": "--date", "start": "--from", "end": "--to"}  # field -> its option
_BACKFILL_OPTIONS = {"reprocess": "--reprocess", "max_active_runs": "--max-active-runs"}

ConfValue = Annotated[StrictBool | StrictInt | StrictFloat | StrictStr, Field(union_mode="left_to_right")]


class RunArgs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["trigger", "status"] = "trigger"
    dag: str | None = Field(None, pattern=DAG_ID)  # None only for `run status` of every DAG
    entity: str | None = None  # the catalog entity the user named, when it was one
    verified: bool = False  # found in the catalog; otherwise the handler asks the orchestrator
    conf: dict[str, ConfValue] = Field(default_factory=dict)
    typed: dict[str, StrictStr] = Field(default_factory=dict)  # each conf value as typed, for the params
    logical_date: date | None = None
    start: date | None = None  # a backfill: one run per day from `start` to `end`, both included
    end: date | None = None
    reprocess: Reprocess | None = None  # a backfill's options (Airflow 3's), None: Airflow's defaults
    max_active_runs: int | None = None

    @field_validator("conf")
    @classmethod
    def _bounded(cls, conf: dict[str, ConfValue]) -> dict[str, ConfValue]:
        if len(conf) > MAX_CONF_KEYS:
            raise ValueError(f"That is {len(conf)} conf keys; at most {MAX_CONF_KEYS}.")
        for key, value in conf.items():
            if not CONF_KEY.fullmatch(key):
                raise ValueError(f"`{key[:70]}` is not a conf key (letters, digits, _; not a digit first).")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"Conf `{key}` must be a finite number.")
        size = len(json.dumps(conf, ensure_ascii=False).encode())
        if size > MAX_CONF_BYTES:
            raise ValueError(f"The conf is {size:,} bytes as JSON; at most {MAX_CONF_BYTES:,}.")
        return conf

    @field_validator("logical_date", "start", "end")
    @classmethod
    def _not_ahead(cls, day: date | None, info: ValidationInfo) -> date | None:
        # Airflow's logical dates are UTC: "today" is today in UTC, wherever the asker is.
        today = datetime.now(UTC).date()
        if day is not None and day > today:
            option = _OPTIONS[str(info.field_name)]
            raise ValueError(
                f"`{option} {day.isoformat()}` is in the future; the latest logical date is today, "
                f"{today.isoformat()} (UTC)."
            )
        return day

    @field_validator("reprocess", mode="before")
    @classmethod
    def _reprocess(cls, raw: object) -> object:
        if raw is not None and raw not in get_args(Reprocess):
            raise ValueError(
                f"`--reprocess` is none, failed or completed (which days that have a run get one again), "
                f"not `{str(raw)[:40]}`."
            )
        return raw

    @field_validator("max_active_runs", mode="before")
    @classmethod
    def _positive(cls, raw: object) -> object:
        if raw is not None and not (str(raw).isdigit() and int(str(raw)) >= 1):
            raise ValueError(f"`--max-active-runs` needs a whole number from 1, not `{str(raw)[:40]}`.")
        return raw

    @property
    def options(self) -> BackfillOptions:
        return BackfillOptions(self.reprocess or "none", self.max_active_runs)

    @model_validator(mode="after")
    def _complete(self) -> RunArgs:
        if self.mode == "trigger" and self.dag is None:
            raise ValueError("Which DAG or entity should run?")
        if self.mode == "status" and (self.conf or self.logical_date or self.start or self.end):
            raise ValueError("`run status` takes no conf and no date")
        if (self.start is None) != (self.end is None):
            raise ValueError("A backfill needs both `--from YYYY-MM-DD` and `--to YYYY-MM-DD`.")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"`--from {self.start}` is after `--to {self.end}`.")
        if self.start and self.logical_date:
            raise ValueError("`--date` is one run; `--from`/`--to` are a backfill: give one or the other.")
        if self.start is None and (self.reprocess or self.max_active_runs):
            raise ValueError(
                "`--reprocess` and `--max-active-runs` are a backfill's: add `--from` and `--to`."
            )
        return self


def parse(words: Sequence[str], catalog: Catalog) -> RunArgs:
    if not words:
        raise UsageError(f"Which DAG or entity should run? Entities: {', '.join(catalog.entity_names())}.")
    if words[0].lower() == "status":
        if len(words) > 2:
            raise UsageError("`run status` takes at most one DAG or entity.")
        target = _target(words[1], catalog) if len(words) == 2 else {}
        return _validated(mode="status", **target)
    conf: dict[str, ConfValue] = {}
    typed: dict[str, str] = {}
    days: dict[str, date] = {}
    backfill: dict[str, str] = {}  # its options, as typed: the model checks them
    rest = list(words[1:])
    while rest:
        word = rest.pop(0)
        option, _, inline = word.partition("=")
        if option in _OPTIONS.values():
            field = next(f for f, o in _OPTIONS.items() if o == option)
            if field in days:
                raise UsageError(f"`{option}` is given twice.")
            days[field] = _date(option, inline if "=" in word else (rest.pop(0) if rest else ""))
        elif option in _BACKFILL_OPTIONS.values():
            field = next(f for f, o in _BACKFILL_OPTIONS.items() if o == option)
            if field in backfill:
                raise UsageError(f"`{option}` is given twice.")
            backfill[field] = inline if "=" in word else (rest.pop(0) if rest else "")
        elif word.startswith("-"):
            raise UsageError(
                f"Unknown option `{word[:40]}`; the options are `--date YYYY-MM-DD` and "
                "`--from YYYY-MM-DD --to YYYY-MM-DD` (a backfill, with `--reprocess none|failed|completed` "
                "and `--max-active-runs N`)."
            )
        elif "=" in word:
            key, _, raw = word.partition("=")
            if key in conf:
                raise UsageError(f"Conf key `{key[:64]}` is given twice.")
            conf[key], typed[key] = _value(raw), raw
        else:
            raise UsageError(f"`{word[:40]}` is not `key=value`; conf goes as `key=value` pairs.")
    return _validated(**_target(words[0], catalog), conf=conf, typed=typed, **days, **backfill)


def _validated(**fields: object) -> RunArgs:
    """The model's checks, answered in the bot's words: pydantic's own wording names fields the user
    never typed (`logical_date`) and prefixes "Value error,"."""
    try:
        return RunArgs.model_validate(fields)
    except ValidationError as exc:
        problem = exc.errors()[0]
        cause = problem.get("ctx", {}).get("error")
        raise UsageError(str(cause) if isinstance(cause, ValueError) else problem["msg"]) from None


def _target(word: str, catalog: Catalog) -> dict[str, str | bool]:
    try:
        entity = catalog.entity(word)
    except UsageError:
        entity = None
    if entity is not None and entity.dag:
        return {"dag": entity.dag, "entity": entity.name, "verified": True}
    if entity is not None:
        # No `meta.dag`: the local runner builds the model and its parents under the model's name;
        # any other orchestrator must be told which DAG builds it (the handler says so).
        return {"dag": entity.name, "entity": entity.name}
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


def _date(option: str, raw: str) -> date:
    try:
        if _DATE.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise UsageError(f"`{option}` needs a date as YYYY-MM-DD, not `{raw[:40]}`.")
