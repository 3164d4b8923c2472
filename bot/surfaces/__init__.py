"""Where requests come in and answers go out: Slack (HTTP and Socket Mode) and the local console."""
