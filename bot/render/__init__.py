"""Rendering: pure functions from a platform-neutral `Message` to Block Kit or console text."""
