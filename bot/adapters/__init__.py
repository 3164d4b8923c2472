"""One module per outside system, behind the ports in bot/foundation/ports.py; chosen only in bot/wiring.py."""
