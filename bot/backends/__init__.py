"""Adapters: one module per outside system, chosen only in bot/wiring.py."""
