"""The fake workspace both fake servers speak for: one team, one app, one bot user.

Both servers must agree on these ids (Bolt compares the team and app of an event with what
auth.test returned), so they live here rather than in either server.
"""

from __future__ import annotations

TEAM_ID = "T0FAKE0001"
TEAM_NAME = "AMD Fake Workspace"
TEAM_DOMAIN = "amd-fake"
WORKSPACE_URL = f"https://{TEAM_DOMAIN}.slack.com/"
APP_ID = "A0AMDBOT01"
BOT_ID = "B0AMDBOT01"
BOT_USER_ID = "U0AMDBOT01"
BOT_USER_NAME = "amd-bot"

# Slack tells token kinds apart by prefix; the fake does the same.
BOT_TOKEN_PREFIX = "xoxb-"
APP_TOKEN_PREFIX = "xapp-"
