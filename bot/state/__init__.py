"""The bot's own store (SQLite or PostgreSQL): schema, schema migrations, repositories."""
