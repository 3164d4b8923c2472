"""How many slash commands per second do 1 and 3 amd-bot replicas sustain on this machine, at what p99 ack,
and where is the first bottleneck? (issue 14)

Real `amd-bot serve --http` processes (tests/support/replicas.py) on one PostgreSQL (a private cluster
of the bench's, tests/support/private_postgres.py, so other work on the shared server does not skew it),
behind the round-robin balancer of the fault tests, answering to FakeSlack in this process. The load
comes from a child process (so FakeSlack's work does not slow the client): CONCURRENCY signed
`/amd run status` at a time for SECONDS, closed loop. A command counts once its answer reached its
response_url: "sustained" is answers per second from the first request to the last answer, not acks
alone. With --profile, py-spy samples the single replica during its round and prints the functions on
its stack most often (pip install py-spy; not a runtime dependency).

    .venv/bin/python bench/load.py [--seconds 20] [--concurrency 16] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.world import ensure_demo  # noqa: E402
from tests.slack_fake.web_api import FakeSlack  # noqa: E402
from tests.support.bot import sign  # noqa: E402
from tests.support.demo import isolated_settings  # noqa: E402
from tests.support.private_postgres import private_postgres  # noqa: E402
from tests.support.proxy import RoundRobin  # noqa: E402
from tests.support.replicas import Replicas, replicas  # noqa: E402

# `/amd run status` reads the orchestrator (the local runner) and answers a card through the response_url.
# Not `/amd stats`: its chart upload is capped by Slack at ~20 files a minute (FakeSlack enforces Tier 2),
# which would measure Slack's limit, not amd-bot.
COMMAND = "run status"


# --- the client (a child process: `--drive URL BODIES SECONDS CONCURRENCY`) -------------------------------


async def drive(url: str, bodies: list[bytes], seconds: float, concurrency: int) -> None:
    """Closed loop: `concurrency` workers post the next body as soon as their last one was acked."""
    latencies: list[float] = []
    failures = 0
    queue = iter(bodies)
    deadline = time.monotonic() + seconds

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        while time.monotonic() < deadline and (body := next(queue, None)) is not None:
            started = time.monotonic()
            try:
                async with http.post(f"{url}/slack/events", data=body, headers=sign(body)) as resp:
                    await resp.read()
            except aiohttp.ClientError:
                failures += 1
                continue
            if resp.status == 200:
                latencies.append(time.monotonic() - started)
            else:
                failures += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        began = time.monotonic()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        took = time.monotonic() - began
    print(json.dumps({"latencies": latencies, "failures": failures, "seconds": took}))


# --- one measured round ---------------------------------------------------------------------------------


async def measure(
    group: Replicas, slack: FakeSlack, url: str, args: argparse.Namespace, name: str
) -> dict[str, Any]:
    payloads = [
        slack.slash_command_payload(COMMAND, user_id=f"U{i % 50:04d}", channel_id="CLOAD")
        for i in range(int(args.seconds * 2_000))  # more than any machine here acks
    ]
    bodies = Path(tempfile.mkstemp(prefix="amd-load-")[1])
    bodies.write_text("\n".join(urllib.parse.urlencode(p) for p in payloads))
    answered_before = len(slack.calls_to("response_url"))
    profiler = _profile(group, args) if args.profile and len(group.started) == 1 else None
    began = time.monotonic()
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--drive", url, str(bodies), str(args.seconds), str(args.concurrency),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await child.communicate()
    result = json.loads(out)
    acked = len(result["latencies"])
    if acked == 0:
        failed = result["failures"]
        raise SystemExit(f"round {name}: no request was acked ({failed} failed); logs in {group.root}")
    async with asyncio.timeout(120):  # the answers still on their way
        while len(slack.calls_to("response_url")) - answered_before < acked:
            await asyncio.sleep(0.1)
    answers = slack.calls_to("response_url")[answered_before:]
    last_answer = max(c.at for c in answers)
    bodies.unlink()
    latencies = sorted(result["latencies"])
    row = {
        "replicas": name,
        "acked": acked,
        "failed": result["failures"],
        "acks_per_s": acked / result["seconds"],
        "answers_per_s": acked / (last_answer - began),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "max_ms": 1000 * latencies[-1],
    }
    if profiler is not None:
        process, output = profiler
        process.wait(timeout=60)
        row["profile"] = _hot_functions(output)
    return row


def _profile(group: Replicas, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], Path]:
    (bot,) = group.started
    assert bot.proc is not None
    output = Path(tempfile.mkstemp(prefix="amd-load-", suffix=".txt")[1])
    argv = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(bot.proc.pid)]
    argv += [
        "--duration",
        str(int(args.seconds)),
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(output),
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), output


# Frames every sample passes through (the event loop, the entry point), and idle thread-pool workers
# (py-spy counts their queue wait as holding the GIL): not where time goes.
_FRAMES_OF_EVERYTHING = (
    *("asyncio/", "runpy", "concurrent/futures/thread.py", "selectors.py", "threading.py"),
    *("bot/cli.py", "runtime.py"),
)


def _hot_functions(raw: Path, top: int = 20) -> list[tuple[str, float]]:
    """py-spy's collapsed stacks (GIL-holding samples only) → the share of samples each function was on
    the stack for (inclusive), leaving out the loop and the entry point."""
    seen: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for frame in {re.sub(r":\d+\)$", ")", f) for f in stack.split(";")}:  # a function, not its lines
            if frame and not any(f in frame for f in _FRAMES_OF_EVERYTHING):
                seen[frame] += int(count)
    raw.unlink()
    return [(frame, n / max(total, 1)) for frame, n in seen.most_common(top)]


COLUMNS = ("replicas", "acked", "failed", "acks_per_s", "answers_per_s", "p50_ms", "p99_ms", "max_ms")


async def main(args: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix="amd-load-"))
    demo = isolated_settings(home / "demo")
    await ensure_demo(demo)
    warm_up = argparse.Namespace(**{**vars(args), "seconds": 3.0, "profile": False})
    rows: list[dict[str, Any]] = []
    async with private_postgres() as database, replicas(demo, database.url, home) as (group, slack):
        for count in (1, 3):
            while len(group.started) < count:
                await group.start(f"r{len(group.started) + 1}")
            async with RoundRobin([bot.url for bot in group.started]) as lb:
                front = lb.url if count > 1 else group.started[0].url
                await measure(group, slack, front, warm_up, "warm-up")
                rows.append(await measure(group, slack, front, args, str(count)))
    print(f"\n{args.concurrency} concurrent `/amd {COMMAND}`, {args.seconds:.0f} s a round, {_cpus()} CPU(s)")
    print(" ".join(f"{c:>13}" for c in COLUMNS))
    for r in rows:
        print(" ".join(f"{r[c]:>13.0f}" if isinstance(r[c], float) else f"{r[c]:>13}" for c in COLUMNS))
    one, three = rows
    speedup = three["answers_per_s"] / one["answers_per_s"]
    print(f"1 → 3 replicas: answers/s ×{speedup:.2f}, p99 ack ×{three['p99_ms'] / one['p99_ms']:.2f}")
    for frame, share in one.get("profile", []):
        print(f"  {share:6.1%}  {frame}")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        url, path, seconds, concurrency = sys.argv[2:6]
        bodies = [line.encode() for line in Path(path).read_text().splitlines()]
        asyncio.run(drive(url, bodies, float(seconds), int(concurrency)))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", action="store_true", help="py-spy the single replica's round")
    asyncio.run(main(parser.parse_args()))
