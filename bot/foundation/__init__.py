"""The vocabulary every layer shares: ports, settings, the dbt catalog and its allowlists, errors."""
