"""What do failure digests cost: Slack calls per digest, and orchestrator calls per watcher poll?

1. Digest: N open incidents (default 10,000) in the state store, one route to one channel. The real
   `send_digests` posts to FakeSlack (Slack's documented limits enforced); we count the Web API calls and
   time the build (grouping through the lineage + rendering). Baseline: one message per failure, i.e. N
   chat.postMessage calls, which Slack's ~1 message/s per channel makes at least N seconds.
2. Watcher poll: D DAGs (default 200) on a stand-in Airflow 3 REST server (in-process, ~2 ms per call,
   page_limit capped at 100), 5 % of them failed. The bot's `runs_ended_since` (one dagRuns/list, one
   taskInstances/list) against the naive watcher: the newest run of each DAG with its own call, then the
   task instances of each failed run.

    .venv/bin/python bench/digest.py [--incidents 10000] [--dags 200] [--home DIR (a built demo world)]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.standin_airflow import LATENCY_S, StandInAirflow, page
from bot.alerts import digest as digests
from bot.alerts.deliver import send_digests
from bot.alerts.views import digest_message
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.ports import DagRunRef
from bot.state.incidents import Finding, Incidents
from bot.surfaces.slack import SlackSurface, web_client, without_rate_limit_waits
from bot.wiring import build_backends
from tests.slack_fake.web_api import FakeSlack
from tests.support.bot import BOT_TOKEN, SIGNING_SECRET
from tests.support.demo import isolated_settings

NIGHT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
ROUTE = AlertRoute(name="bench", channel="C_BENCH")
SLACK_POSTS_PER_S = 1.0  # chat.postMessage: about one message per second per channel (docs.slack.dev)


async def digest_bench(home: Path, count: int) -> None:
    from demo.world import ensure_demo

    await ensure_demo(isolated_settings(home))
    async with FakeSlack() as slack:
        settings = isolated_settings(
            home,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=slack.api_url,
            state_url=f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'state.db'}",
            alert_routes=[ROUTE],
        )
        backends = await build_backends(settings)
        try:
            now = datetime.now(UTC)
            await Incidents(backends.state.engine).observe(_findings(count), (), now - timedelta(hours=1))
            incidents = await Incidents(backends.state.engine).all()
            started = time.perf_counter()
            built = digests.build(ROUTE, "C_BENCH", incidents, backends.catalog, since=None, now=now)
            digest_message(built, backends.catalog)
            build_ms = (time.perf_counter() - started) * 1000
            surface = SlackSurface(without_rate_limit_waits(web_client(settings)))
            before = len(slack.calls)
            started = time.perf_counter()
            sent = await send_digests(
                backends, surface, now=now, unreadable={}, route_name="bench", force=True
            )
            send_s = time.perf_counter() - started
            calls = [c.method for c in slack.calls[before:]]
        finally:
            await backends.close()
    assert sent == ["bench → C_BENCH"], sent
    web_api = [m for m in calls if m != "file_upload"]
    print(f"\nDigest of {count:,} open incidents to one channel")
    print(
        f"  build (grouping + render): {build_ms:,.0f} ms; whole send incl. the state store: {send_s:.1f} s"
    )
    print(
        f"  Slack Web API calls: {len(web_api)} ({', '.join(web_api)}), "
        f"+ {len(calls) - len(web_api)} file upload (not a Web API call)"
    )
    naive_s = count / SLACK_POSTS_PER_S
    print(
        f"  baseline, one message per failure: {count:,} calls, ≥ {naive_s / 3600:.1f} h at Slack's ~1 msg/s"
    )
    print(f"  calls ratio: {count / len(web_api):,.0f}× fewer")


def _findings(count: int) -> list[Finding]:
    entities = ("user", "purchase", "payment", "delivery_address")
    return [
        Finding(
            key=f"test:test.amd.bench_{n:05d}",
            kind="test",
            subject=f"bench_{n:05d}",
            summary=f"test `bench_{n:05d}` failed ({n % 97} failing rows)",
            severity="critical",
            entity=entities[n % 4],
            owner=("anna.k", "jonas.w", "payments-team", "lena.m")[n % 4],
            channel="C_BENCH",
            detail={"model": None},
        )
        for n in range(count)
    ]


class NightlyAirflow(StandInAirflow):
    def __init__(self, dags: int) -> None:
        super().__init__(version="3.1.0")
        self.runs = [
            {
                "dag_id": f"amd_entity_{d:03d}",
                "dag_run_id": f"scheduled__{r}",
                "state": "failed" if r == 0 and d % 20 == 19 else "success",
                # The nightly of each DAG ends a minute after the previous DAG's; older nights a day apart.
                "start_date": (NIGHT - timedelta(days=r, minutes=10)).isoformat(),
                "end_date": (NIGHT + timedelta(minutes=d) - timedelta(days=r)).isoformat(),
            }
            for r in range(3)
            for d in range(dags)
        ]
        failed = [r for r in self.runs if r["state"] == "failed"]
        self.tasks = [
            {"dag_id": r["dag_id"], "dag_run_id": r["dag_run_id"], "task_id": "dbt_test", "state": "failed"}
            for r in failed
        ]
        self.app.add_routes(
            [
                web.post("/api/v2/dags/~/dagRuns/list", self._runs),
                web.post("/api/v2/dags/~/dagRuns/~/taskInstances/list", self._tasks),
                web.get("/api/v2/dags/{dag}/dagRuns/{run}/taskInstances", self._run_tasks),
            ]
        )

    async def _runs(self, request: web.Request) -> web.Response:
        body = await request.json()
        since = datetime.fromisoformat(body.get("end_date_gte") or "1970-01-01T00:00:00+00:00")
        wanted = set(body["dag_ids"])
        found = [
            r for r in self.runs if r["dag_id"] in wanted and datetime.fromisoformat(r["end_date"]) >= since
        ]
        return page(found, body, "dag_runs")

    async def _tasks(self, request: web.Request) -> web.Response:
        body = await request.json()
        return page([t for t in self.tasks if t["dag_id"] in set(body["dag_ids"])], body, "task_instances")

    async def _run_tasks(self, request: web.Request) -> web.Response:
        dag, run = request.match_info["dag"], request.match_info["run"]
        found = [t for t in self.tasks if (t["dag_id"], t["dag_run_id"]) == (dag, run)]
        return web.json_response({"task_instances": found, "total_entries": len(found)})


async def poll_bench(dags: int) -> None:
    server = NightlyAirflow(dags)
    names = sorted({str(r["dag_id"]) for r in server.runs})
    # A poll every minute reads since its last mark (minus the 5 min overlap): a few runs ended since.
    steady = NIGHT + timedelta(minutes=dags - 6)
    # The worst case: the first poll after the whole nightly (every DAG's run, and two older nights').
    everything = NIGHT - timedelta(days=3)

    async with server.serving() as airflow:

        async def naive() -> int:
            failed = 0
            for dag in names:
                (newest,) = await airflow.latest_runs([dag], 1)
                if newest.state == "failed":
                    failed += 1
                    await airflow.task_states(DagRunRef(dag, newest.run_id))
            return failed

        await airflow.runs_ended_since(names[:1], steady)  # warm-up: version probe, login, connections
        results = {}
        for name, tick in (
            ("batch", lambda: airflow.runs_ended_since(names, steady)),
            ("batch, all", lambda: airflow.runs_ended_since(names, everything)),
            ("naive", naive),
        ):
            server.api_calls = 0
            started = time.perf_counter()
            await tick()
            results[name] = (server.api_calls, (time.perf_counter() - started) * 1000)
    print(f"\nWatcher poll of {dags} DAGs ({dags // 20} failed), {LATENCY_S * 1000:g} ms per API call")
    print("batch: a poll a minute (runs ended since the last one); batch, all: 3 nights' runs at once")
    print(f"{'strategy':<11} {'calls/poll':>10} {'ms/poll':>9} {'naive calls ÷':>14} {'naive time ÷':>13}")
    naive_calls, naive_ms = results["naive"]
    for name, (calls, ms) in results.items():
        print(f"{name:<11} {calls:10d} {ms:9.1f} {naive_calls / calls:14.1f} {naive_ms / ms:13.1f}")


async def main(count: int, dags: int, home: Path | None) -> None:
    await poll_bench(dags)
    await digest_bench(home or Path(tempfile.mkdtemp(prefix="amd-bench-")), count)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--dags", type=int, default=200)
    parser.add_argument("--home", type=Path, help="AMD_HOME of a built demo world (saves building one)")
    args = parser.parse_args()
    asyncio.run(main(args.incidents, args.dags, args.home))
