"""The run form, built from the DAG's params: one input per param, typed by its JSON schema, and the
logical date. Pure: the handlers in commands/run/submit.py do the I/O.

What comes back from a surface is read into a conf here, then checked with the same schema checks as
`key=value` words (commands/run/params.py), so a form and a typed command can never disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from bot.foundation.errors import UsageError
from bot.foundation.ports import DagParam
from bot.render.form import Form, Input, InputKind
from commands.run.args import MAX_CONF_BYTES
from commands.run.params import field_errors

LOGICAL_DATE = "@logical_date"  # no param can be named so: Airflow's param names are identifiers
FROM, TO = "@from", "@to"  # a scheduled DAG's form also takes a backfill's days
SUBMIT = "run.form"
OLD_FORM = "That form is from an older version of amd-bot; run the command again."
_SCALARS: dict[str, InputKind] = {"boolean": "boolean", "integer": "integer", "number": "number"}
_STRING_FORMATS: dict[str, InputKind] = {"date": "date", "date-time": "datetime"}


@dataclass(frozen=True)
class FormState:
    """What a submitted form needs to know besides its values (Slack: the view's private_metadata)."""

    form: str  # this form's id: a second submission of it is refused
    dag: str
    requester: str
    channel: str
    params: str  # digest of the params the form was built from: they may change before it comes back
    entity: str | None = None
    edit: str | None = None  # the confirmation whose parameters this form edits
    days: bool = False  # it has From and To days, which make it a backfill (a scheduled DAG's form)

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def load(cls, raw: str) -> FormState:
        try:
            return cls(**json.loads(raw))
        except (ValueError, TypeError):  # not JSON, or another shape: a form of an older version
            raise UsageError(
                "That form is from an older version of amd-bot; run the command again."
            ) from None


def digest(params: Sequence[DagParam]) -> str:
    text = json.dumps([asdict(p) for p in params], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_form(
    state: FormState,
    params: Sequence[DagParam],
    *,
    conf: Mapping[str, Any],
    logical_date: datetime,
    intro: str,
) -> Form:
    inputs = [_input(p, conf.get(p.name, p.default)) for p in params]
    inputs.append(
        Input(
            LOGICAL_DATE,
            "Logical date",
            "datetime",
            logical_date,
            "The run's logical date; now unless you pick another.",
            True,
        )
    )
    if state.days:
        hint = "Optional: with To, a backfill (one run per day, both included) instead of one run."
        inputs.append(Input(FROM, "Backfill from", "date", None, hint))
        inputs.append(Input(TO, "Backfill to", "date", None, "The backfill's last day (UTC)."))
    return Form(f"Run {state.dag}", SUBMIT, state.dump(), tuple(inputs), intro=intro, submit="Review")


def read_submission(
    params: Sequence[DagParam], values: Mapping[str, Any], *, now: datetime
) -> tuple[dict[str, Any], datetime | None, tuple[date, date] | None, dict[str, str]]:
    """The conf, logical date and backfill days a submitted form asks for, and the problems per input."""
    conf: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for param in params:
        value = values.get(param.name)
        if _kind(param) == "json" and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                problems[param.name] = f"Not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
                continue
        if value is None:
            continue  # left empty: Airflow takes the default, and says when there is none
        if len(json.dumps(value).encode()) > MAX_CONF_BYTES:
            problems[param.name] = f"Too long: at most {MAX_CONF_BYTES:,} bytes."
            continue
        conf[param.name] = value
    for name, problem in field_errors(params, conf).items():
        problems.setdefault(name, problem[:1].upper() + problem[1:] + ".")
    moment = _moment(values.get(LOGICAL_DATE))
    if moment is None:
        problems[LOGICAL_DATE] = "A date and time, please."
    elif moment > now:
        problems[LOGICAL_DATE] = "The logical date cannot be in the future."
    return conf, moment, _days(values, now.date(), problems), problems


def _days(values: Mapping[str, Any], today: date, problems: dict[str, str]) -> tuple[date, date] | None:
    """A backfill's first and last day, both or neither; like `--from`/`--to`, never after today (UTC)."""
    first, last = (_day(values.get(name), name, problems) for name in (FROM, TO))
    if first is None and last is None:
        return None
    if first is None or last is None:
        problems.setdefault(
            FROM if first is None else TO, "A backfill needs both days (or neither: one run)."
        )
    elif first > last:
        problems[TO] = "The last day is before the first."
    elif last > today:
        problems[TO] = f"The last day can be today ({today.isoformat()}, UTC) at the latest."
    else:
        return first, last
    return None


def _day(raw: Any, name: str, problems: dict[str, str]) -> date | None:
    if raw in (None, ""):
        return None
    with suppress(ValueError):
        if isinstance(raw, str) and len(raw) == 10:  # YYYY-MM-DD: fromisoformat takes other forms too
            return date.fromisoformat(raw)
    problems[name] = "A day as YYYY-MM-DD, please."
    return None


def _moment(raw: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _input(param: DagParam, value: Any) -> Input:
    schema = param.schema
    kind = _kind(param)
    label = str(schema.get("title") or param.name)
    hint = param.description or schema.get("description")
    required = bool(schema) and param.default is None and "null" not in _types(schema)
    if kind in ("select", "multiselect"):
        enum = schema["enum"] if kind == "select" else schema["items"]["enum"]
        shown = schema.get("values_display") or {}
        choices = tuple((v, str(shown.get(str(v), v))) for v in enum)
        return Input(param.name, label, kind, value, hint, required, choices)
    if kind == "datetime" and isinstance(value, str):
        value = _moment(value)
    return Input(
        param.name,
        label,
        kind,
        value,
        hint,
        required,
        minimum=schema.get("minimum"),
        maximum=schema.get("maximum"),
        min_length=schema.get("minLength"),
        max_length=schema.get("maxLength"),
    )


def _kind(param: DagParam) -> InputKind:
    schema = param.schema
    main = next((t for t in _types(schema) if t != "null"), "")
    items = schema.get("items")
    if "enum" in schema:
        return "select"
    if main == "array" and isinstance(items, Mapping) and "enum" in items:
        return "multiselect"
    if main == "string":
        return _STRING_FORMATS.get(schema.get("format", ""), "text")
    # Objects, arrays of anything, params without a type: JSON is what they take.
    return _SCALARS.get(main, "json")


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)
