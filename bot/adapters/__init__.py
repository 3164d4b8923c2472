"""One module per outside system, behind the ports in bot/foundation/ports.py; chosen in bot/wiring.py."""
