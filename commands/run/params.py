"""A run's conf checked against the DAG's params before anything is confirmed.

A key the DAG does not declare, a value of the wrong type or out of its bounds is answered now, with
the param's name, instead of being found out when Airflow refuses the trigger or the run fails. The
checks are the params' own JSON schemas, read by `jsonschema` as Airflow reads them at trigger time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.validators import validator_for
from rapidfuzz.fuzz import ratio
from rapidfuzz.process import extractOne

from bot.foundation.errors import UsageError
from bot.foundation.ports import DagParam

# A key this close to a declared param is a typo of it; one further off is extra conf, which Airflow
# passes to the run as it is (DAGs read keys they never declared, e.g. amd_fail's `ok_file`).
TYPO = 75.0
MAX_PROBLEM = 200  # a schema error quotes the value; a long value must not flood the answer


def check_conf(
    dag: str, params: Sequence[DagParam], conf: Mapping[str, Any], typed: Mapping[str, str]
) -> dict[str, Any]:
    """The conf to trigger with, or a UsageError naming every param that is wrong or mistyped. `typed`
    holds each value as the user typed it: `zip=007` is the text "007" for a string param, not 7."""
    if not params:
        return dict(conf)  # a DAG without params takes any conf, as Airflow does
    declared = {p.name: p for p in params}
    for key in conf:
        guess = None if key in declared else extractOne(key, list(declared), scorer=ratio, score_cutoff=TYPO)
        if guess is not None:
            raise UsageError(f"`{dag}` has no param `{key[:64]}`. Did you mean `{guess[0]}`?")
    checked = {
        key: _read(declared[key], value, typed.get(key)) if key in declared else value
        for key, value in conf.items()
    }
    problems = field_errors(params, checked)
    if problems:
        raise UsageError(" ".join(f"`{name}`: {problem}." for name, problem in problems.items()))
    return checked


def field_errors(params: Sequence[DagParam], conf: Mapping[str, Any]) -> dict[str, str]:
    """Per param, why its value (the given one, else its default) breaks its schema; none when valid."""
    problems: dict[str, str] = {}
    for param in params:
        value = conf.get(param.name, param.default)
        error = best_match(_errors(param.schema, value))
        if error is None:
            continue
        # Airflow's way of saying "required": no default, and the schema does not allow null.
        problems[param.name] = "required" if value is None else _cut(error.message)
    return problems


def _read(param: DagParam, value: Any, typed: str | None) -> Any:
    """The first reading of a typed word that the schema accepts: as the bot parsed it (number,
    true/false), as the text itself, or as JSON (an object or a list). None fits: the parsed value."""
    if typed is None:
        return value
    readings = [value, typed]
    with suppress(ValueError):  # not JSON: the two readings above are all there is
        readings.append(json.loads(typed))
    return next((r for r in readings if best_match(_errors(param.schema, r)) is None), value)


def _errors(schema: Mapping[str, Any], value: Any) -> Iterator[ValidationError]:
    return validator_for(schema)(schema, format_checker=FormatChecker()).iter_errors(value)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PROBLEM else text[: MAX_PROBLEM - 1] + "…"
