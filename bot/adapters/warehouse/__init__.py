"""Warehouses: DuckDB (embedded default) and Snowflake, one SQL dialect module they share."""
