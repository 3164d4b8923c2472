"""A real Apache Airflow 3 for integration tests: session fixture `airflow_server` -> (url, user, password).

Airflow gets its own virtualenv (AMD_AIRFLOW_VENV, default ~/.cache/amd-bot/airflow-venv, reused while its
version stamp matches), its own database on the local PostgreSQL, LocalExecutor, the simple auth manager
with a password file we write, and tests/airflow_dags as DAGs folder. `api-server`, `scheduler` and
`dag-processor` run as separate process groups and are stopped by group at the end. No PostgreSQL, or no
PyPI to install from: the tests are skipped with a message naming what is missing, never silently.

What does not depend on the version (venv, database, processes, logs) is shared with airflow2.py, which
starts an Airflow 2.10 the same way.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import IO, Any, ClassVar, NamedTuple

import asyncpg
import pytest

from tests.support.postgres import ADMIN_URL

AIRFLOW_SPEC = ("apache-airflow==3.3.*", "psycopg2-binary", "asyncpg")  # Airflow 3 also opens an async engine
VENV = Path(os.environ.get("AMD_AIRFLOW_VENV") or Path.home() / ".cache" / "amd-bot" / "airflow-venv")
ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "tests" / "airflow_dags"
FACTORY = ROOT / "deploy" / "composer" / "dag_factory.py"
DEMO_PROJECT = ROOT / "demo" / "dbt"
DB_PREFIX = "amd_airflow_test"
USERNAME = "admin"
STARTUP_TIMEOUT_S = 120.0
READY = {
    "amd_ok",
    "amd_fail",
    "amd_flip",
    "amd_slow",
    "amd_params",
}  # parsed and unpaused: the tests may trigger them


class FactoryProject(NamedTuple):
    """Where the factory's DAGs find dbt: a copy of the demo project, parsed, whose profile writes to
    `warehouse` (a test puts a demo world there before running a DAG; the DAGs parse without one).
    Each task keeps dbt's run_results.json in `results` (AMD_DBT_RESULTS_DIR), as on Composer's data/."""

    project_dir: Path
    warehouse: Path
    results: Path


class AirflowServer(NamedTuple):
    url: str
    username: str
    password: str
    major: int = 3  # 3: /api/v2 with a JWT; 2: /api/v1 with basic auth
    factory: FactoryProject | None = None  # Airflow 3 only


@pytest.fixture(scope="session")
async def airflow_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[AirflowServer]:
    # Registered once, in tests/conftest.py: a test module importing it too would start a second Airflow.
    async with running(_Airflow3, tmp_path_factory, request) as server:
        yield server


@asynccontextmanager
async def running(
    kind: type[_Airflow], tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[AirflowServer]:
    """An Airflow of `kind`, from its database and virtualenv up, until the block ends."""
    began = time.monotonic()
    database = f"{kind.db_prefix}_{os.getpid()}"
    sql_conn = await _fresh_database(kind.db_prefix, database)  # first: skips without PostgreSQL
    server: _Airflow | None = None
    try:
        airflow = await asyncio.to_thread(_install, kind.venv, kind.spec)
        installed = time.monotonic()
        server = kind(airflow, tmp_path_factory.mktemp(f"airflow{kind.major}-home"), sql_conn)
        await asyncio.to_thread(server.start)
        _report(
            request,
            f"Airflow {kind.major} at {server.url}: db + venv {installed - began:.1f} s, {server.timings}",
        )
        yield AirflowServer(server.url, USERNAME, server.password, kind.major, server.factory)
    finally:  # also after pytest.skip and pytest.fail, which are BaseExceptions
        if server is not None:
            await asyncio.to_thread(server.stop)
        await _drop_database(database)


def _install(venv: Path, spec: Sequence[str]) -> Path:
    """Airflow's own virtualenv: Airflow pins what it needs, and those pins must not meet the bot's."""
    stamp = f"{' '.join(spec)} python{sys.version_info.major}.{sys.version_info.minor}"
    airflow = venv / "bin" / "airflow"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _locked(venv.parent / f"{venv.name}.lock"):  # two pytest sessions must not build it at once
        stamp_file = venv / ".amd-stamp"
        if stamp_file.is_file() and stamp_file.read_text() == stamp and airflow.is_file():
            return airflow
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *spec],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if pip.returncode != 0:
            errors = [line for line in pip.stderr.splitlines() if "is ignored" not in line][-5:]
            pytest.skip(f"could not install {' '.join(spec)} into {venv} (no network to PyPI?): {errors}")
        stamp_file.write_text(stamp)
        return airflow


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncio.wait_for(asyncpg.connect(ADMIN_URL), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"Airflow tests need PostgreSQL at {ADMIN_URL} ({type(exc).__name__}: {exc})")


async def _fresh_database(prefix: str, name: str) -> str:
    """A new database for this session (named by pid: sessions may run side by side); dead sessions' go."""
    admin = await _admin()
    try:
        for (old,) in await admin.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{prefix}_%"
        ):
            pid = old.rsplit("_", 1)[1]
            if old == name or not Path(f"/proc/{pid}").exists():
                await admin.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1) + f"/{name}"


async def _drop_database(name: str) -> None:
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


class _Airflow:
    """One Airflow's processes, each in its own process group, with their logs in its AIRFLOW_HOME."""

    major: ClassVar[int]
    spec: ClassVar[tuple[str, ...]]
    venv: ClassVar[Path]
    db_prefix: ClassVar[str]
    commands: ClassVar[tuple[tuple[str, ...], ...]]  # the long-running processes, as `airflow` subcommands

    def __init__(self, airflow: Path, home: Path, sql_conn: str) -> None:
        self.airflow, self.home, self.sql_conn = airflow, home, sql_conn
        self.password = secrets.token_urlsafe(12)
        self.factory: FactoryProject | None = None
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.timings = ""
        self._processes: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")} | {
            "PATH": f"{airflow.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_conn,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        }

    def start(self) -> None:
        began = time.monotonic()
        self.prepare()
        prepared = time.monotonic()
        for command in self.commands:
            log = (self.home / f"{command[0]}.log").open("wb")
            process = subprocess.Popen(
                [str(self.airflow), *command],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends its workers with it
            )
            self._processes.append((process, log))
        self._wait_until_ready()
        self.timings = (
            f"db setup {prepared - began:.1f} s, processes ready {time.monotonic() - prepared:.1f} s"
        )

    def prepare(self) -> None:
        """What must be done before the processes start: the database schema, users."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Healthy, with the READY DAGs parsed and unpaused; may raise OSError, KeyError, ValueError."""
        raise NotImplementedError

    def cli(self, *args: str) -> None:
        """A one-off `airflow` command that must succeed."""
        done = subprocess.run([str(self.airflow), *args], env=self.env, capture_output=True, timeout=300)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            pytest.fail(f"airflow {args[0]} {args[1]} failed:\n{output[-4000:]}")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p, _ in self._processes):
                pytest.fail(f"an Airflow {self.major} process exited during startup:\n{self._log_tails()}")
            with suppress(OSError, KeyError, ValueError):  # not up yet
                if self.ready():
                    return
            time.sleep(0.3)
        pytest.fail(
            f"Airflow {self.major} not ready with {sorted(READY)} after {STARTUP_TIMEOUT_S:g} s:\n"
            f"{self._log_tails()}"
        )

    def _log_tails(self) -> str:
        return "\n".join(
            f"--- {log.name} ---\n{Path(log.name).read_text(errors='replace')[-2000:]}"
            for _, log in self._processes
        )

    def stop(self) -> None:
        # Some children make process groups of their own (Airflow 2's DAG file processor manager): found
        # now, while they are still our processes' descendants, and ended with the rest.
        groups = [process.pid for process, _ in self._processes]
        strays = _descendant_groups(groups)
        for group in groups:
            _signal_group(group, signal.SIGTERM)
        # A grace period, not a full graceful stop: the scheduler would wait for running tasks, and the
        # database is dropped next anyway.
        deadline = time.monotonic() + 5
        for process, log in self._processes:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            _signal_group(process.pid, signal.SIGKILL)  # also whatever its workers left behind in its group
            process.wait()
            log.close()
        for group, started in strays.items():
            if started and _start_time(group) == started:  # still the same process, not a reused pid
                _signal_group(group, signal.SIGKILL)


class _Airflow3(_Airflow):
    major = 3
    spec = AIRFLOW_SPEC
    venv = VENV
    db_prefix = DB_PREFIX
    commands = (("api-server",), ("scheduler", "--skip-serve-logs"), ("dag-processor",))

    def __init__(self, airflow: Path, home: Path, sql_conn: str) -> None:
        super().__init__(airflow, home, sql_conn)
        self._token: str | None = None
        (home / "passwords.json").write_text(json.dumps({USERNAME: self.password}))
        self.env |= {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            # Task processes report to the execution API of *this* api-server, not the default :8080.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__BASE_URL": f"{self.url}/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            # Shared by all three processes, so tokens one signs the others accept.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        }

    def prepare(self) -> None:
        self.factory = _factory_dags(self.home, self.env)
        self.cli("db", "migrate")

    def ready(self) -> bool:
        if self._token is None:
            health = _get_json(f"{self.url}/api/v2/monitor/health")
            if not all(health[part]["status"] == "healthy" for part in ("scheduler", "dag_processor")):
                return False
            self._token = self._login()
        dags = _get_json(f"{self.url}/api/v2/dags", {"Authorization": f"Bearer {self._token}"})["dags"]
        return {d["dag_id"] for d in dags if not d["is_paused"]} >= READY

    def _login(self) -> str:
        body = json.dumps({"username": USERNAME, "password": self.password}).encode()
        req = urllib.request.Request(
            f"{self.url}/auth/token", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return str(json.load(resp)["access_token"])


def _factory_dags(home: Path, env: dict[str, str]) -> FactoryProject:
    """A DAGs folder of the test DAGs plus the DAG factory, set up as an operator would on Composer:
    the dbt project beside it, its manifest from `dbt parse`, the factory's settings in the environment.
    Tasks find `dbt` (dbt-duckdb) in the bot's own virtualenv, after Airflow's."""
    dags = home / "dags"
    dags.mkdir()
    for dag_file in [*DAGS.glob("*.py"), FACTORY]:
        shutil.copy(dag_file, dags / dag_file.name)
    project = home / "dags" / "dbt"
    shutil.copytree(DEMO_PROJECT, project)
    warehouse = home / "demo" / "warehouse.duckdb"  # the demo world's file name: dbt names the database so
    warehouse.parent.mkdir()
    results = home / "gcs" / "data" / "dbt-results"  # the tasks make it: the bucket starts empty
    bot_bin = Path(sys.executable).parent
    env |= {
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "PATH": f"{env['PATH'].split(os.pathsep, 1)[0]}{os.pathsep}{bot_bin}{os.pathsep}{os.environ['PATH']}",
        "AMD_DBT_PROJECT_DIR": str(project),
        "AMD_DAG_SCHEDULE": "none",  # the tests trigger; a schedule would start dbt runs at once
        "AMD_DBT_RESULTS_DIR": str(results),
        "DBT_PROFILES_DIR": str(project),
        "AMD_DEMO_DUCKDB": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    # One entity downstream of `payment` in its DAG, so a run shows the failing test stopping it, and
    # the entity going stale behind it (loaded as recently as the payments it counts; SLA 24 h).
    meta = "'dag': 'amd_payment', 'entity': true, 'freshness_sla_hours': 24, 'loaded_at_field': 'loaded_at'"
    (project / "models" / "entities" / "payment_daily.sql").write_text(
        f"{{{{ config(meta={{{meta}}}) }}}}\n"
        "select count(*) as payments, max(loaded_at) as loaded_at from {{ ref('payment') }}\n"
    )
    parsed = subprocess.run(
        [str(bot_bin / "dbt"), "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if parsed.returncode != 0:
        pytest.fail(f"dbt parse of the DAG factory's project failed:\n{parsed.stdout[-3000:]}")
    return FactoryProject(project, warehouse, results)


def _descendant_groups(pids: Sequence[int]) -> dict[int, str]:
    """The process groups that descendants of `pids` lead outside `pids`' own groups, with start times."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    descendants, frontier = set(), set(pids)
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - descendants
        descendants |= frontier
    groups = {}
    for pid in descendants:
        with suppress(OSError):
            if os.getpgid(pid) == pid and pid not in pids:
                groups[pid] = _start_time(pid)
    return groups


def _start_time(pid: int) -> str:
    with suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    return ""


def _signal_group(group: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(group, sig)


def _get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as resp:
        return json.load(resp)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _report(request: pytest.FixtureRequest, line: str) -> None:
    """One line on the terminal, past output capture: how long the harness took is worth seeing."""
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)
