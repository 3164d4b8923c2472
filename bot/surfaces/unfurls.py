"""`link_shared` → `chat.unfurl`: links to the configured Airflow become the run's status card
(commands/run/unfurl.py decides what, and for whom). Acked at once by Bolt; the unfurl follows."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.core.backends import Backends
from bot.render.slack import to_blocks
from commands.run.unfurl import unfurl

log = logging.getLogger(__name__)


def register_unfurls(app: AsyncApp, backends: Backends) -> None:
    async def link_shared(event: dict[str, Any]) -> None:
        links = [str(link.get("url", "")) for link in event.get("links", [])]
        user, channel = str(event.get("user", "")), str(event.get("channel", ""))
        cards = await unfurl(links, user=user, channel=channel, backends=backends)
        if not cards:
            return
        unfurls = {url: {"blocks": to_blocks(card)} for url, card in cards.items()}
        try:
            await app.client.chat_unfurl(
                channel=channel, ts=str(event.get("message_ts", "")), unfurls=unfurls
            )
        except SlackApiError as exc:
            # The message may be gone, or the link edited away: the unfurl is a courtesy, not an answer.
            log.warning("chat.unfurl refused: %s", exc.response.get("error"))

    app.event("link_shared")(backends.answering.tracked(link_shared))
