"""Local stand-ins for Slack that enforce Slack's documented rules: a recording Web API server
(`web_api.FakeSlack`), a Socket Mode server (`socket_mode.SocketModeServer`) and the Block Kit
validator they share (`blocks`, pure, usable by golden-file tests directly)."""
