"""The state store on SQLAlchemy (async): SQLite for the embedded default, PostgreSQL for replicas.

Feature stores (runs, test results, migration ledger) take this object's `engine` and own their
tables' queries; this module owns the engine, schema migrations and the cross-cutting records.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import URL, delete, event, insert, make_url, select, text, update
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.foundation.ports import BackendUnavailable
from bot.state.answers import answered_threads, asked_questions, rate_windows
from bot.state.clock import db_time
from bot.state.deliveries import deliveries
from bot.state.freshness import freshness_samples
from bot.state.incidents import incidents
from bot.state.migrate import LOCK_ID, SchemaStatus, Upgraded, file_lock, status, upgrade
from bot.state.owed import Owed
from bot.state.schema import (
    audit_log,
    claims,
    held_work,
    live_cards,
    processed_events,
    replicas,
    run_confirmations,
    test_results,
    test_runs,
)

log = logging.getLogger(__name__)
# The database is down, restarting or dropped the connection: the same request works once it is back.
# Drivers raise some bare while connecting (refused; "the database system is starting up": SQLSTATE
# class 08 is a connection exception, 57P an operator's shutdown or a server starting).
_AWAY = (OSError, PoolTimeout)
_AWAY_SQLSTATES = ("08", "57P")


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    user_id: str
    channel_id: str
    command: str
    text: str
    outcome: str
    duration_ms: int
    detail: Mapping[str, Any]


class SqlState:
    def __init__(self, url: str) -> None:
        # The URL may carry a password: errors about it name the setting, never echo it.
        try:
            parsed = make_url(url)
            # A server's connections die with it or a restart: each is tested on checkout. A file
            # has no connection to lose, and the test is a round trip to SQLite's thread per query.
            ping = parsed.get_backend_name() != "sqlite"
            self.engine: AsyncEngine = create_async_engine(parsed, pool_pre_ping=ping)
        except (ArgumentError, ValueError) as exc:
            raise BackendUnavailable(
                f"AMD_STATE_URL is not a usable database URL ({type(exc).__name__}); expected e.g. "
                "postgresql+asyncpg://user:password@host:5432/db or sqlite+aiosqlite:///path/state.db"
            ) from None
        self._password = parsed.password
        self.where = _public(parsed)
        self._sqlite_file: Path | None = None
        if url.startswith("sqlite") and ":///" in url and not url.endswith(":memory:"):
            self._sqlite_file = Path(url.split(":///", 1)[1])
            self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.holder = f"{socket.gethostname()}:{id(self):x}"
        self.owed = Owed()  # what this process could not give back while the store was away

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> Upgraded:
        """Bring the schema to head; several replicas starting at once migrate once (the others wait
        for the lock, then find nothing to do)."""
        try:
            async with file_lock(self._sqlite_file), self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
                return await conn.run_sync(upgrade)
        except (OSError, SQLAlchemyError) as exc:
            # The first contact at start: rewrapped, so no driver message can carry the URL's password.
            detail = str(exc).split("\n", 1)[0]
            if self._password:
                detail = detail.replace(str(self._password), "***")
            raise BackendUnavailable(
                f"the state store at {self.where} cannot be used: {type(exc).__name__}: {detail}"
            ) from None

    async def schema_status(self) -> SchemaStatus:
        """Where the schema is against what this code needs, without changing anything."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(status)

    async def close(self) -> None:
        await self.engine.dispose()

    async def record_audit(self, entry: AuditEntry) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(audit_log).values({**entry.__dict__, "detail": dict(entry.detail)}))

    async def recent_audit(self, limit: int = 50, *, command: str | None = None) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if command is not None:
            query = query.where(audit_log.c.command == command)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [AuditEntry(**{k: v for k, v in row.items() if k != "id"}) for row in rows]

    async def claim(self, key: str) -> bool:
        """True for exactly one caller per key, across replicas: the caller then does the work."""
        try:
            async with self.engine.begin() as conn:
                stamp = db_time(self.engine)
                await conn.execute(insert(claims).values(key=key, at=stamp, holder=self.holder))
        except IntegrityError:
            return False
        return True

    async def release(self, key: str) -> None:
        """Give a claim back when its work failed, so a later tick (or replica) retries it."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(claims).where(claims.c.key == key))

    async def take_over(self, key: str, *, older_than_s: float) -> datetime | None:
        """Claim a key claimed more than `older_than_s` ago, by the store's clock (whose holder
        presumably died before its work was recorded as done). For exactly one caller, who then finishes
        that work, the answer is when the dead holder claimed it (so it can look for what it did since);
        None for the others. Claims are stamped by the store's clock too: replicas whose clocks disagree
        agree on a claim's age."""
        async with self.engine.connect() as conn:
            at = (await conn.execute(select(claims.c.at).where(claims.c.key == key))).scalar_one_or_none()
        if at is None:
            return None
        # One statement, conditional on the claim time read: of several heirs exactly one updates it
        # (deleting and claiming again in two steps let a third replica claim in between).
        old_enough = claims.c.at < db_time(self.engine, ago_s=older_than_s)
        async with self.engine.begin() as conn:
            taken = await conn.execute(
                update(claims)
                .where(claims.c.key == key, claims.c.at == at, old_enough)
                .values(at=db_time(self.engine), holder=self.holder)
            )
        return at if taken.rowcount == 1 else None

    async def first_time(self, event_id: str) -> bool:
        """True the first time an event id is seen (Slack retries carry the same event_id)."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(processed_events).values(event_id=event_id, at=_now()))
        except IntegrityError:
            return False
        return True

    async def prune(
        self, *, records_before: datetime, events_before: datetime, audit_before: datetime
    ) -> dict[str, int]:
        """Delete what is past its retention; returns how many rows of each kind went. A claim outlives
        its effect by the retention (a repeat that late finds the confirmation gone too); a live card
        only goes once it settled, a confirmation once it can no longer be pressed, a dbt test run
        (with its results) once it ended. The audit log has a retention of its own."""
        old_runs = select(test_runs.c.run_key).where(
            test_runs.c.started_at < records_before, test_runs.c.status != "running"
        )
        statements = {
            "events": delete(processed_events).where(processed_events.c.at < events_before),
            "claims": delete(claims).where(claims.c.at < records_before),
            "confirmations": delete(run_confirmations).where(run_confirmations.c.expires_at < records_before),
            "live cards": delete(live_cards).where(
                live_cards.c.settled.is_(True), live_cards.c.updated_at < records_before
            ),
            # Rows of processes long dead (a clean stop removes its own at once).
            "held work": delete(held_work).where(held_work.c.started_at < records_before),
            "replicas": delete(replicas).where(replicas.c.heartbeat_at < records_before),
            # Results first: they belong to runs the next statement removes.
            "test results": delete(test_results).where(test_results.c.run_key.in_(old_runs)),
            "test runs": delete(test_runs).where(test_runs.c.run_key.in_(old_runs)),
            "audit entries": delete(audit_log).where(audit_log.c.at < audit_before),
            # Help-channel answers: rate windows are minutes long, a thread's follow-ups come within days.
            "rate windows": delete(rate_windows).where(rate_windows.c.at < events_before),
            "answered threads": delete(answered_threads).where(answered_threads.c.at < records_before),
            "alert deliveries": delete(deliveries).where(deliveries.c.created_s < records_before.timestamp()),
            "asked questions": delete(asked_questions).where(asked_questions.c.at < records_before),
            "freshness samples": delete(freshness_samples).where(
                freshness_samples.c.observed_at < records_before
            ),
            # An incident resolved that long ago is no digest's "recovered" any more.
            "incidents": delete(incidents).where(
                incidents.c.state == "resolved", incidents.c.resolved_at < records_before
            ),
        }
        pruned = {}
        async with self.engine.begin() as conn:
            for kind, statement in statements.items():
                pruned[kind] = int((await conn.execute(statement)).rowcount or 0)
        return pruned


def unreachable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the state store cannot be reached just now, as opposed
    to a bug or a refused statement. The engine pings pooled connections before use (pool_pre_ping),
    so once the database is back the next statement reconnects by itself."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, _AWAY) or (isinstance(cause, DBAPIError) and cause.connection_invalidated):
            return True
        if str(getattr(cause, "sqlstate", "") or "").startswith(_AWAY_SQLSTATES):
            return True
        cause = cause.__cause__
    return False


def _public(url: URL) -> str:
    """Where the store is, for people: no password, and no query string (it may hold key files)."""
    bare = URL.create(url.drivername, url.username, None, url.host, url.port, url.database)
    return bare.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Copy jobs report into the same SQLite file the bot reads: WAL lets readers and one writer
    # overlap, and a busy timeout turns a brief lock into a short wait instead of an error.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _now() -> datetime:
    return datetime.now(UTC)
