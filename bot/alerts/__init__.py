"""Failure watcher, incidents, immediate alerts and digests (DESIGN.md: bot/alerts)."""
