"""`amd-bot doctor`: every configured system checked the way the bot will use it, one line each,
saying what is wrong and how to fix it. The exit status is 0 only when every check passes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence

from bot.doctor.alert_channels import check_alert_channels
from bot.doctor.checks import Finding, fail, first_line
from bot.doctor.project import check_dbt, load_catalog, resolved
from bot.doctor.slack import check_slack
from bot.doctor.systems import check_ingest_token, check_orchestrator, check_state, check_warehouse
from bot.foundation.errors import ConfigError
from bot.foundation.settings import Settings

__all__ = ["Finding", "diagnose", "report"]


async def diagnose(settings: Settings) -> list[Finding]:
    """All checks, in a fixed order; the independent ones run at once."""
    settings, problem = await resolved(settings)
    catalog, catalog_problem = load_catalog(settings)
    found = await asyncio.gather(
        guarded("slack", check_slack(settings)),
        guarded("dbt", check_dbt(settings, problem, catalog, catalog_problem)),
        guarded("warehouse", check_warehouse(settings, catalog)),
        guarded("orchestrator", check_orchestrator(settings, catalog)),
        guarded("state store", check_state(settings)),
        guarded("alert channels", check_alert_channels(settings, catalog)),
    )
    return [*found, check_ingest_token(settings)]


async def guarded(check: str, finding: Awaitable[Finding]) -> Finding:
    """A check that fails in a way nobody foresaw is still one FAIL line, never a traceback: the doctor
    is what people run when something is wrong."""
    try:
        return await finding
    except ConfigError as exc:
        return fail(check, "; ".join(exc.problems), "set what is missing (see .env.example)")
    except Exception as exc:
        return fail(check, first_line(exc), f"fix the {check} settings; `amd-bot -v doctor` logs details")


def report(findings: Sequence[Finding]) -> str:
    width = max(len(f.check) for f in findings)
    lines = [f.line(width) for f in findings]
    failed = sum(not f.passed for f in findings)
    lines.append("all checks passed" if not failed else f"{failed} of {len(findings)} checks failed")
    return "\n".join(lines)
