"""A scratch database on the local PostgreSQL for tests that need a real one.

Where PostgreSQL is missing the tests are skipped with a message saying so (pytest -ra prints it),
never silently.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

ADMIN_URL = os.environ.get("AMD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _admin() -> asyncpg.Connection:
    return await asyncio.wait_for(asyncpg.connect(ADMIN_URL), timeout=5)


async def scratch_database(prefix: str) -> AsyncIterator[str]:
    """Yields a SQLAlchemy URL of a fresh database and drops it afterwards."""
    try:
        admin = await _admin()
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(
            f"PostgreSQL not reachable at {ADMIN_URL} ({type(exc).__name__}: {exc}); "
            "start it or point AMD_TEST_POSTGRES_URL at one"
        )
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await _admin()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
