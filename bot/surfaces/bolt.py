"""`create_app`: the Bolt AsyncApp and its listeners. No business logic: everything goes through
the router, and every listener acks first (Slack's 3-second rule), then works."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core.backends import Backends
from bot.core.router import Refusal, Router
from bot.foundation.ports import CardRef
from bot.foundation.settings import Settings
from bot.render.slack import fallback_text, parse_action_id, to_blocks
from bot.render.slack_form import read_metadata, read_values
from bot.state.store import unreachable
from bot.surfaces.answers import EVENT_ID, EVENT_LEASE, Answers
from bot.surfaces.observe import observe_request
from bot.surfaces.slack import SlackSurface, web_client
from bot.surfaces.unfurls import register_unfurls

log = logging.getLogger(__name__)


def create_app(
    settings: Settings, backends: Backends, router: Router, session: aiohttp.ClientSession | None = None
) -> AsyncApp:
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=web_client(settings, session),
        # Verification stays on in every mode. Socket Mode has no signing secret: a random one makes
        # any HTTP request that reaches this app anyway fail verification (Bolt would otherwise read
        # the environment, and an empty secret is one anybody can sign with).
        signing_secret=secret.get_secret_value() if secret else secrets.token_hex(32),
        request_verification_enabled=True,
        process_before_response=False,
    )

    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        # Bolt answers Slack's HTTP request (or Socket Mode envelope) as soon as ack() is called
        # (process_before_response=False) and lets this listener go on: the ack leaves first, the
        # work follows. Not Bolt's lazy listeners: they deep-copy the request, and with it the Web
        # API client's shared HTTP session, which cannot be copied.
        user, channel, text = command["user_id"], command["channel_id"], command.get("text", "")
        prepared = router.prepare(text, user=user, channel=channel)
        if isinstance(prepared, Refusal):
            await ack(text=fallback_text(prepared.message), blocks=to_blocks(prepared.message))
        else:
            await ack(text=router.ack_text(prepared))
        surface = SlackSurface(
            app.client,
            channel=channel,
            user=user,
            response_url=command["response_url"],
            trigger_id=command.get("trigger_id"),
        )
        await router.run(text, user=user, channel=channel, surface=surface, refusal_shown=True)

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    async def press(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        container = body.get("container", {})
        channel = body.get("channel", {}).get("id") or container.get("channel_id", "")
        ts = container.get("message_ts")
        surface = SlackSurface(
            app.client,
            channel=channel,
            user=body["user"]["id"],
            response_url=body.get("response_url"),
            replace=True,
            trigger_id=body.get("trigger_id"),
        )
        await router.press(
            parse_action_id(action["action_id"]),
            action.get("value", ""),
            user=body["user"]["id"],
            channel=channel,
            surface=surface,
            clicked=CardRef(channel, ts) if ts else None,
        )

    async def submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        # A form's submission is answered in its ack (errors at the inputs, or nothing, which closes
        # the modal): the handler answers the form first and works on after, as a command after its ack.
        channel, state = read_metadata(view.get("private_metadata") or "{}")
        user = body["user"]["id"]

        async def form_ack(response: dict[str, Any]) -> None:
            await ack(**response)

        surface = SlackSurface(app.client, channel=channel, user=user, form_ack=form_ack)
        await router.press(
            parse_action_id(view["callback_id"]),
            state,
            user=user,
            channel=channel,
            surface=surface,
            clicked=None,
            form_values=read_values(view["state"]["values"]),
        )
        if surface.form_ack is not None:  # the handler failed before answering: close the form
            await ack()

    async def once_per_event(
        body: dict[str, Any], context: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        # Slack retries events it thinks were lost (same event_id). Each is answered at least once and
        # no more than once while it is being answered: a replica takes it under a lease, and marks it
        # done once answered (bot/surfaces/answers.py). A retry while another holds it gets a 503, so
        # Slack tries again later: by then it is done, or its holder died and the lease ran out.
        # Without the state store the event is refused, so Slack delivers it again instead of losing it.
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return await next()
        try:
            taken = await answers.state.take_event(event_id, lease_s=EVENT_LEASE.total_seconds())
        except Exception as exc:
            if not unreachable(exc):
                raise
            log.warning("event %s refused: the state store is unreachable; Slack will retry it", event_id)
            return BoltResponse(status=503, body="state store unreachable; retry later")
        if taken == "done":
            return BoltResponse(status=200, body="")
        if taken == "held":
            return BoltResponse(status=503, body="being answered; retry later")
        context[EVENT_ID] = event_id
        response = await next()
        if body.get("event", {}).get("type") not in Answers.EVENTS:
            # nothing after the ack to wait for
            await answers.state.event_done(event_id, now=datetime.now(UTC))
        return response

    answers = Answers(app, backends)
    app.use(observe_request)
    app.middleware(once_per_event)
    tracked = backends.answering.tracked  # a stopping process finishes what it acked (bot/runtime.py)
    app.command(settings.command)(tracked(on_command))
    app.action(re.compile(r"^amd:"))(tracked(press))
    app.action(re.compile(r"^link:"))(ack_only)  # URL buttons also send an action that must be acked
    app.view(re.compile(r"^amd:"))(tracked(submit))  # the run form
    answers.register()  # app_mention, help-channel and DM messages, App Home
    register_unfurls(app, backends)  # links to the configured Airflow
    return app
