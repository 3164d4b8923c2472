"""The state store's schema revisions, run by Alembic (configured in code: bot/state/migrate.py).

`env.py` is Alembic's entry point; `versions/` holds one revision per schema change, in order.
"""
