"""Slack: the bot token works (`auth.test`) and was granted every scope the code calls for. Slack
names the granted scopes in the `x-oauth-scopes` header of every Web API answer."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.doctor.checks import Finding, fail, first_line, ok
from bot.foundation.settings import Settings
from bot.surfaces.slack import web_client

# The bot scopes of deploy/slack/manifest.yaml (a test keeps the two equal); the image ships the code,
# not the manifest, so the list the code needs lives here.
NEEDED_SCOPES = frozenset(
    {
        "commands",  # the slash command
        "chat:write",  # answers, cards, digests
        "chat:write.public",  # alerts in a configured channel the bot was not invited to
        "files:write",  # charts and long snippets (files_upload_v2)
        "app_mentions:read",  # app_mention events
        "channels:history",  # questions in public help channels (message.channels)
        "groups:history",  # …and private ones (message.groups)
        "im:history",  # questions in DMs with the bot (message.im)
        "channels:read",  # a public #name's id (conversations.list): history is read by id
        "groups:read",  # …and a private one's
        "channels:join",  # read a public alert channel posted to without being in it, before a retry
        "links:read",  # link_shared: a link to the team's Airflow was posted
        "links:write",  # chat.unfurl: it becomes the run's status card
    }
)
_APP_PAGE = "https://api.slack.com/apps → your app"


async def check_slack(settings: Settings) -> Finding:
    if settings.slack_mode == "console":
        return Finding("slack", "skip", "not configured (console mode)")
    try:
        answer = await web_client(settings).auth_test()
    except SlackApiError as exc:
        return fail(
            "slack",
            f"auth.test refused the bot token: {exc.response.get('error')}",
            f"set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) of {_APP_PAGE} → OAuth & Permissions",
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        return fail(
            "slack",
            f"cannot reach {settings.slack_api_url}: {first_line(exc)}",
            "check the network path to Slack (proxy, egress rules) and SLACK_API_URL",
        )
    header = str(answer.headers.get("x-oauth-scopes", ""))
    granted = {scope.strip() for scope in header.split(",") if scope.strip()}
    who = f"bot @{answer.get('user')} in {answer.get('team')}, {settings.slack_mode} mode"
    if missing := sorted(NEEDED_SCOPES - granted):
        return fail(
            "slack",
            f"{who}: missing scope(s) {', '.join(missing)}",
            f"add them under {_APP_PAGE} → OAuth & Permissions → Bot Token Scopes "
            "(deploy/slack/manifest.yaml lists all), then reinstall the app to the workspace",
        )
    return ok("slack", f"{who}: all {len(NEEDED_SCOPES)} needed scopes granted")
