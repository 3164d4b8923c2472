"""A DAG's params as Airflow's REST API returns them in `GET /dags/{id}/details`.

Airflow 2.10 (/api/v1) and 3 (/api/v2) both answer `dag.params.dump()`: per name, `{"__class": …,
"value": …, "description": …, "schema": {…}}`. A DAG serialized by an older Airflow can hold a bare
value instead; it becomes a param with that default and no schema, which accepts anything, as Airflow does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.foundation.ports import DagParam


def params_from_details(details: Mapping[str, Any]) -> list[DagParam]:
    return [_param(name, raw) for name, raw in (details.get("params") or {}).items()]


def _param(name: str, raw: Any) -> DagParam:
    if isinstance(raw, Mapping) and "schema" in raw:
        schema = raw.get("schema") or {}
        return DagParam(name, raw.get("value"), raw.get("description"), dict(schema))
    return DagParam(name, raw)
