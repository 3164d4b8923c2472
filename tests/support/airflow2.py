"""A real Apache Airflow 2.10 for integration tests: session fixture `airflow2_server` -> AirflowServer.

The same harness as Airflow 3's (tests/support/airflow.py: own virtualenv, own database, LocalExecutor,
tests/airflow_dags, process groups, skipped with a message when PostgreSQL or PyPI is missing), with what
Airflow 2 does differently: the REST API is /api/v1 behind the basic-auth backend, the user is created with
`airflow users create`, and `webserver` + `scheduler` are the processes (the scheduler parses the DAGs).

Airflow 2 installs without its constraints file here, so its dependencies resolve to their newest releases
that Airflow's own requirements allow. Where that is not enough, AIRFLOW2_SPEC pins:
- universal-pathlib<0.3: 0.3 rejects ObjectStoragePath's protocols ("TypeError: ObjectStoragePath(...)
  detected protocol file which is incompatible with ObjectStoragePath"), so `airflow.io` breaks; Airflow
  2.10.5 does not cap it (its constraints file had 0.2.6).
The rest was checked on 2026-11-26 (`pip check` clean, the DAGs and the contract tests run): Airflow 2.10.5
itself caps what would break (SQLAlchemy<2, Flask<2.3, connexion<3, Flask-Session<0.6), its FAB provider
resolves to 1.5.x (newer ones need Airflow 3), and Flask-AppBuilder 4.5 caps marshmallow<4.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.airflow import READY, USERNAME, AirflowServer, _Airflow, _get_json, running

AIRFLOW2_SPEC = ("apache-airflow==2.10.5", "psycopg2-binary", "universal-pathlib<0.3")  # pins: see above
VENV2 = Path(os.environ.get("AMD_AIRFLOW2_VENV") or Path.home() / ".cache" / "amd-bot" / "airflow2-venv")


@pytest.fixture(scope="session")
async def airflow2_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[AirflowServer]:
    # Registered once, in tests/conftest.py: a test module importing it too would start a second Airflow.
    async with running(_Airflow2, tmp_path_factory, request) as server:
        yield server


class _Airflow2(_Airflow):
    major = 2
    spec = AIRFLOW2_SPEC
    venv = VENV2
    db_prefix = "amd_airflow2_test"  # its LIKE pattern must not match Airflow 3's databases, nor theirs it
    # No log server (port 8793 would clash between sessions): the web server reads task logs from disk.
    commands = (("webserver",), ("scheduler", "--skip-serve-logs"))

    def __init__(self, airflow: Path, home: Path, sql_conn: str) -> None:
        super().__init__(airflow, home, sql_conn)
        credentials = base64.b64encode(f"{USERNAME}:{self.password}".encode()).decode()
        self._auth = {"Authorization": f"Basic {credentials}"}
        self.env |= {
            "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
            "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(self.port),
            "AIRFLOW__WEBSERVER__BASE_URL": self.url,
            "AIRFLOW__WEBSERVER__WORKERS": "2",
            "AIRFLOW__WEBSERVER__SECRET_KEY": base64.b64encode(os.urandom(24)).decode(),
        }

    def prepare(self) -> None:
        self.cli("db", "migrate")
        # Before the web server starts: both write FAB's roles and permissions, and would race. The password
        # goes in one argument: a random one starting with "-" (1 in 64) was read as an option.
        self.cli(
            "users", "create", "--role", "Admin", "--username", USERNAME, f"--password={self.password}",
            "--firstname", "amd", "--lastname", "bot", "--email", "amd-bot@example.com",
        )  # fmt: skip

    def ready(self) -> bool:
        health = _get_json(f"{self.url}/api/v1/health")
        if health["scheduler"]["status"] != "healthy":
            return False
        dags = _get_json(f"{self.url}/api/v1/dags", self._auth)["dags"]
        return {d["dag_id"] for d in dags if not d["is_paused"]} >= READY
