"""dbt: the CLI as a subprocess (one per invocation) and its artifacts."""
