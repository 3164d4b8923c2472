"""History migrations: the progress ledger, its math, the reporter client, the ingest API and CLI."""
