"""Issue 2 over Socket Mode: apps.connections.open → hello → a slash_commands envelope acked within 3 s
with the same envelope_id, the answer on response_url, then a disconnect and a reconnect."""

import asyncio
import contextlib

from prometheus_client import REGISTRY
from pydantic import SecretStr

import commands
from bot.core.router import Router
from bot.foundation.settings import Settings
from bot.runtime import drain
from bot.surfaces.bolt import create_app
from bot.surfaces.serve import serve_socket_mode
from bot.wiring import build_backends
from tests.slack_fake.socket_mode import SocketModeServer
from tests.slack_fake.web_api import FakeSlack


async def test_socket_mode_acks_answers_and_reconnects(bot_settings: Settings) -> None:
    async with SocketModeServer() as socket_mode, FakeSlack(socket_mode=socket_mode) as slack:
        settings = bot_settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-socket-test"),
                "slack_app_token": SecretStr("xapp-socket-test"),
                "slack_api_url": slack.api_url,
            }
        )
        backends = await build_backends(settings)
        app = create_app(settings, backends, Router(commands.COMMANDS, backends))
        stop = asyncio.Event()
        serving = asyncio.create_task(
            serve_socket_mode(
                app, backends, commands.COMMANDS, stopped=stop.wait, drain=lambda: drain(backends, 5)
            )
        )
        acks_before = {kind: acks(kind) for kind in ("command", "event_callback")}
        try:
            await socket_mode.wait_for_connections(1)
            payload = slack.slash_command_payload("stats paymnt")
            envelope = await socket_mode.send_slash_command(payload)
            ack = await socket_mode.wait_for_ack(envelope)
            assert ack.latency is not None and ack.latency < 3.0
            assert ack.payload is not None and "Did you mean `payment`?" in str(ack.payload)

            payload = slack.slash_command_payload("stats")
            ack = await socket_mode.wait_for_ack(await socket_mode.send_slash_command(payload))
            assert "Reading all entities" in str(ack.payload)
            (answer,) = await slack.wait_for_response(payload["response_url"], timeout=30)
            assert "delivery_address" in str(answer["blocks"])

            await socket_mode.disconnect(close_after=2)
            await socket_mode.wait_for_connections(2, timeout=20)  # a second hello: reconnected
            assert len(slack.calls_to("apps.connections.open")) >= 2
            payload = slack.slash_command_payload("help")
            ack = await socket_mode.wait_for_ack(await socket_mode.send_slash_command(payload))
            assert ack.latency is not None and ack.latency < 3.0

            # Slack retries an event it thinks was lost with the same event_id: one answer only.
            mention = {
                "type": "app_mention",
                "user": "U1",
                "channel": "C9",
                "ts": "1700000000.000200",
                "text": "<@UBOT> is payment fresh?",
            }
            envelope = await socket_mode.send_event(mention, event_id="Ev0MENTION1")
            await socket_mode.wait_for_ack(envelope)
            (reply,) = await slack.wait_for("chat.postMessage")
            assert reply.args["thread_ts"] == "1700000000.000200"
            # A redelivery while the event is still being answered is left unacknowledged (its lease is
            # live, so Slack delivers it again later); once answered, it is acknowledged and not answered.
            for _ in range(20):
                envelope = await socket_mode.send_event(
                    mention, event_id="Ev0MENTION1", retry_attempt=1, retry_reason="timeout"
                )
                with contextlib.suppress(TimeoutError):
                    await socket_mode.wait_for_ack(envelope, timeout=1.0)
                    break
            await asyncio.sleep(0.5)
            assert len(slack.calls_to("chat.postMessage")) == 1
            # /metrics' ack latency covers Socket Mode too: three commands, two event deliveries
            assert acks("command") - acks_before["command"] == 3
            assert acks("event_callback") - acks_before["event_callback"] >= 2  # and each redelivery
        finally:
            stop.set()  # as SIGTERM does: disconnect, drain, return
            await asyncio.wait_for(serving, 30)
            await backends.close()


def acks(kind: str) -> float:
    return REGISTRY.get_sample_value("amd_ack_seconds_count", {"kind": kind}) or 0.0
