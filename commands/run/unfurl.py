"""Links to the configured Airflow, unfurled into the run's status card (Slack `link_shared`).

A link to a run or one of its tasks shows that run; a link to a DAG its latest run. Only for people who
may read that DAG's runs (`runs:<dag>`, as `/amd run status`); links to anything else are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.backends import Backends
from bot.foundation.ports import BackendUnavailable, DagRunRef, RunState
from bot.render.message import Message
from commands.run.views import RunMemo, run_card

MAX_LINKS = 5  # Slack sends at most a few links per message; each costs the orchestrator two reads


async def unfurl(links: Sequence[str], *, user: str, channel: str, backends: Backends) -> dict[str, Message]:
    cards: dict[str, Message] = {}
    for url in list(dict.fromkeys(links))[:MAX_LINKS]:
        try:
            card = await _card(url, user=user, channel=channel, backends=backends)
        except BackendUnavailable:
            continue  # Slack shows the plain link: better than an error where nobody asked
        if card is not None:
            cards[url] = card
    return cards


async def _card(url: str, *, user: str, channel: str, backends: Backends) -> Message | None:
    orchestrator = backends.orchestrator
    target = await orchestrator.run_of_link(url)
    if target is None:
        return None
    dag, run_id = target
    if not backends.policy.check(f"runs:{dag}", user=user, channel=channel).allowed:
        return None
    runs: Sequence[RunState]
    if run_id is None:
        runs = await orchestrator.latest_runs([dag], 1)
    else:
        runs = await orchestrator.get_runs([DagRunRef(dag, run_id)])
    if not runs:
        return None
    run = runs[0]
    tasks = await orchestrator.task_states(run.ref)
    logs = {t.task_id: t.log_url for t in tasks if t.state == "failed" and t.log_url}
    memo = RunMemo(run.state, {t.task_id: t.state for t in tasks}, logs)
    return run_card(run, memo, requester=None, environment=orchestrator.environment)
