"""How fast are help-channel questions answered, and what do they cost the warehouse?

The labelled demo questions (tests/qa/questions.yaml, declines left out) are asked N times in turn as
signed Events API requests (DMs, so Slack's per-channel posting limit does not set the pace) against
amd-bot's HTTP mode on the demo world, with FakeSlack as Slack. Two runs, measured the same way:
  cached   – the shipped stats cache (AMD_STATS_CACHE_TTL_S, 300 s): one warehouse query for all
             entities, and one per entity's daily volume, per TTL
  uncached – TTL 0: what every question would cost if each fetched its facts itself (the baseline)
Prints median and p99 from the event's post to the answer's arrival at Slack, and warehouse queries
per 100 questions. Target: cached queries bounded by entities per TTL, not by questions; p99 < 300 ms.

Then the understanding step alone (commands/ask/understand.py, no I/O), every labelled question (the
held-out ones too) in turn: on the demo catalog (4 entities, the baseline) and on a catalog of 400
entities (the demo's and 396 more, each with aliases, columns and a DAG) — target p99 < 5 ms — and a
2,000-character message (a question with a pasted log) on the 400 — target < 20 ms.

    .venv/bin/python bench/qa.py [--questions 300] [--home DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.foundation.catalog import Catalog  # noqa: E402
from commands.ask.engine import vocabulary  # noqa: E402
from commands.ask.intents import INTENTS  # noqa: E402
from commands.ask.markup import plain  # noqa: E402
from commands.ask.understand import understand  # noqa: E402
from demo.world import ensure_demo  # noqa: E402
from tests.support.bot import BotHarness, running_bot  # noqa: E402
from tests.support.demo import isolated_settings  # noqa: E402

QUESTIONS = ROOT / "tests" / "qa" / "questions.yaml"
HELD_OUT = ROOT / "tests" / "qa" / "held_out.yaml"
_KINDS = [
    "order",
    "invoice",
    "shipment",
    "refund",
    "session",
    "click",
    "review",
    "coupon",
    "basket",
    "stock",
    "warehouse",
    "courier",
]
_PARTS = [
    "daily",
    "hourly",
    "raw",
    "clean",
    "agg",
    "snapshot",
    "history",
    "current",
    "eu",
    "us",
    "apac",
    "latest",
]


def questions() -> list[str]:
    cases: list[dict[str, Any]] = yaml.safe_load(QUESTIONS.read_text())
    return [c["q"] for c in cases if c["intent"] != "decline" and c.get("project", "demo") == "demo"]


async def ask_all(bot: BotHarness, texts: list[str], count: int) -> list[float]:
    latencies = []
    for n in range(count):
        ts = f"1700000000.{n:06d}"
        event = {"type": "message", "channel_type": "im", "channel": f"D{n:08d}", "user": f"U{n % 40:04d}"}
        sent = time.monotonic()
        await bot.event(event | {"text": texts[n % len(texts)], "ts": ts}, event_id=f"Ev{n}")
        [answer] = [c for c in await bot.slack.wait_for("chat.postMessage", n + 1, timeout=60)][n:]
        assert answer.args["thread_ts"] == ts, answer.args
        latencies.append(answer.at - sent)
    return latencies


async def measure(home: Path, ttl_s: float, count: int) -> tuple[list[float], int]:
    settings = isolated_settings(
        home,
        stats_cache_ttl_s=ttl_s,
        help_user_limit=10_000,
        help_channel_limit=10_000,
        # A new state store each run: event ids already seen would be (rightly) ignored as retries.
        state_url=f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='amd-bench-qa-state-')}/state.db",
    )
    async with running_bot(settings) as bot:
        warehouse: Any = bot.backends.warehouse
        before = warehouse.queries
        latencies = await ask_all(bot, questions(), count)
        return latencies, warehouse.queries - before


def big_catalog(demo: Catalog, size: int) -> Catalog:
    """The demo's manifest with `size - len(demo.entities)` more entity models of plausible names."""
    nodes = dict(demo.nodes)
    for n in range(size - len(demo.entities)):
        name = f"{_KINDS[n % len(_KINDS)]}_{_PARTS[n // len(_KINDS) % len(_PARTS)]}_{n}"
        nodes[f"model.bench.{name}"] = {
            "resource_type": "model",
            "name": name,
            "schema": "amd",
            "description": f"{name} for the benchmark",
            "columns": {f"{name}_id": {}, f"{name}_amount": {}, "loaded_at": {}},
            "config": {"meta": {"entity": True, "aliases": [f"{name}s"], "dag": f"amd_{name}"}},
            "depends_on": {"nodes": []},
        }
    manifest = {"nodes": nodes, "sources": dict(demo.sources)}
    return Catalog.from_manifest(manifest, {}, None)


def understanding(catalog: Catalog, migrations: list[Any], texts: list[str], rounds: int) -> list[float]:
    vocab = vocabulary(catalog, migrations)
    for text in texts:  # a replica answers many questions: measured warm, as it runs
        understand(plain(text, bot_user=None).text, vocab, INTENTS)
    took = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            understand(plain(text, bot_user=None).text, vocab, INTENTS)
            took.append(time.perf_counter() - started)
    return took


def bench_understanding(home: Path) -> None:
    settings = isolated_settings(home)
    demo = Catalog.load(settings.manifest_path, {}, None)
    big = big_catalog(demo, 400)
    cases = yaml.safe_load(QUESTIONS.read_text()) + yaml.safe_load(HELD_OUT.read_text())
    texts = [str(c["q"]) for c in cases]
    long = (
        "why is payment stale? here is the log: " + "task amd_payment.load_events retried 3 times; " * 60
    )[:2000]
    rows = {
        "demo (4 entities), baseline": understanding(demo, settings.migrations, texts, 3),
        f"{len(big.entities)} entities": understanding(big, settings.migrations, texts, 3),
        "2,000-char message, 400": understanding(big, settings.migrations, [long], 50),
    }
    print(f"\nunderstanding alone, {len(texts)} labelled questions, 3 rounds")
    print(f"{'catalog':<30}{'median ms':>12}{'p99 ms':>10}{'p99 / baseline':>16}")
    base = p99(rows["demo (4 entities), baseline"])
    for name, took in rows.items():
        median, tail = statistics.median(took) * 1000, p99(took) * 1000
        print(f"{name:<30}{median:>12.2f}{tail:>10.2f}{p99(took) / base:>15.1f}×")


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument(
        "--home", type=Path, default=None, help="an AMD_HOME with the demo world (else a new one)"
    )
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="amd-bench-qa-"))
    await ensure_demo(isolated_settings(home))
    rows = {}
    for name, ttl in (("uncached", 0.0), ("cached", 300.0)):
        latencies, queries = await measure(home, ttl, args.questions)
        rows[name] = (statistics.median(latencies), p99(latencies), 100 * queries / args.questions)
    print(f"{args.questions} questions each run, {len(questions())} distinct, on the demo world")
    print(f"{'run':<10}{'median ms':>12}{'p99 ms':>10}{'warehouse queries / 100 questions':>36}")
    for name, (median, tail, per_100) in rows.items():
        print(f"{name:<10}{median * 1000:>12.1f}{tail * 1000:>10.1f}{per_100:>36.1f}")
    cached, uncached = rows["cached"], rows["uncached"]
    ratios = f"median {cached[0] / uncached[0]:.2f}×, queries {cached[2] / uncached[2]:.3f}×"
    print(f"ratio cached/uncached: {ratios}")
    bench_understanding(home)


if __name__ == "__main__":
    asyncio.run(main())
