"""Each intent's answer carries the fact the services give, never another: checked against the same
facts read directly (warehouse, manifest, stored results, orchestrator, ledger) on the demo world."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.foundation.settings import Settings
from bot.render import format as fmt
from tests.support.bot import BotHarness, running_bot


async def ask(bot: BotHarness, question: str) -> str:
    return await bot.console(f"@amd {question}")


async def test_freshness_says_stale_for_the_stale_entity_with_its_owner(bot: BotHarness) -> None:
    out = await ask(bot, "is delivery address fresh?")

    assert "✗ `delivery_address` is stale: last load" in out
    assert "24 h SLA" in out and "lena.m" in out and "from the warehouse" in out


async def test_volumes_are_the_warehouses_numbers(bot: BotHarness) -> None:
    catalog = bot.backends.catalog
    [purchase] = [
        s
        for s in await bot.backends.stats.status(list(catalog.entities.values()))
        if s.entity.name == "purchase"
    ]
    payment = catalog.entities["payment"]
    volumes = await bot.backends.warehouse.daily_volume(payment.stats_query, 30)
    yesterday = purchase.as_of.date() - timedelta(days=1)
    [loaded] = [v.rows for v in volumes if v.day == yesterday]

    rows = await ask(bot, "row count of purchase")
    daily = await ask(bot, "payments loaded yesterday?")

    assert f"`purchase` has {fmt.count(purchase.rows)} rows." in rows
    assert f"`payment`: {fmt.count(loaded)} rows loaded yesterday ({yesterday.isoformat()})." in daily


async def test_meaning_and_lineage_come_from_the_manifest(bot: BotHarness) -> None:
    meaning = await ask(bot, "what does home_currency mean in purchase?")
    lineage = await ask(bot, "upstream of payment?")

    assert "`purchase` has no column `home_currency`; `user` has one." in meaning
    assert "`stg_payment_captured`" in lineage and "`stg_payment_refunded`" in lineage
    assert "from the dbt manifest" in lineage


async def test_without_stored_results_runs_or_reports_nothing_is_made_up(
    bot_settings: Settings, tmp_path: Path
) -> None:
    # A home of its own: the local runner keeps its runs there, and other tests run the demo's DAGs.
    fresh = bot_settings.model_copy(
        update={
            "home": tmp_path,
            "duckdb_path": bot_settings.warehouse_path,
            "dbt_manifest": bot_settings.manifest_path,
        }
    )
    async with running_bot(fresh) as bot:
        tests = await ask(bot, "what tests are failing?")
        runs = await ask(bot, "did amd_purchase succeed last night?")
        migration = await ask(bot, "ETA of the migration?")

    assert "No dbt test results are stored yet." in tests
    assert "`amd_purchase` has no runs yet." in runs and "from the orchestrator, local" in runs
    assert "has not started: no copy job has reported a chunk yet." in migration
