"""The production warehouse: Snowflake through snowflake-connector-python, run in threads.

One connection is opened lazily and shared (the connector is thread-safe per connection); a broken
connection is dropped and opened again once. Values are bound server-side (`qmark`), so no `%` in an
identifier can confuse client-side formatting; identifiers come from the dbt catalog and are quoted.
"""

from __future__ import annotations

import asyncio
import base64
import re
import threading
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr
from snowflake.connector import SnowflakeConnection, connect
from snowflake.connector.errors import Error, InterfaceError, OperationalError

from bot.adapters.warehouse.sql import (
    as_utc,
    count_sql,
    qualified,
    quote,
    stats_sql,
    volume_sql,
    volume_window,
    zero_filled,
)
from bot.foundation.ports import BackendUnavailable, DailyVolume, EntityStats, Relation, Rows, StatsQuery
from bot.foundation.settings import Settings

_UNQUOTED = re.compile(r"[a-z_][a-z0-9_$]*")

Result = tuple[list[str], list[tuple[Any, ...]]]


def stored_name(identifier: str) -> str:
    """The name as Snowflake stored it when dbt-snowflake created it.

    dbt-snowflake does not quote by default, so Snowflake stored `payment` as PAYMENT while the manifest
    says `payment`; quoting it as written would miss the table. Anything else was created quoted.
    """
    return identifier.upper() if _UNQUOTED.fullmatch(identifier) else identifier


def quote_ident(identifier: str) -> str:
    return quote(stored_name(identifier))


class SnowflakeWarehouse:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._conn: SnowflakeConnection | None = None
        self._connect_lock = threading.Lock()
        self.queries = 0  # statements sent, so tests can check how much work a feature costs

    async def entity_stats(self, queries: Sequence[StatsQuery]) -> list[EntityStats]:
        if not queries:
            return []
        _, rows = await self._query(stats_sql(queries, quote_ident), [q.entity for q in queries])
        # LAST_ALTERED also moves on background maintenance, so it is read only for entities that have
        # no load column of their own, as the last resort before "unknown" (bot.core.stats).
        altered = await self._last_altered([q for q in queries if q.load_column is None])
        return [
            EntityStats(str(entity), int(count), as_utc(last), altered.get(str(entity)))
            for entity, count, last in rows
        ]

    async def _last_altered(self, queries: Sequence[StatsQuery]) -> dict[str, datetime]:
        """The information schema's LAST_ALTERED of each entity that is a table (views have none)."""
        if not queries:
            return {}
        parts, params = [], []
        for query in queries:
            database = query.relation.database
            tables = (
                f"{quote_ident(database)}.INFORMATION_SCHEMA.TABLES"
                if database
                else "INFORMATION_SCHEMA.TABLES"
            )
            parts.append(
                f"SELECT ? AS entity, LAST_ALTERED FROM {tables} "
                "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE'"
            )
            params += [query.entity, stored_name(query.relation.schema), stored_name(query.relation.name)]
        _, rows = await self._query("\nUNION ALL\n".join(parts), params)
        return {str(entity): moment for entity, value in rows if (moment := as_utc(value)) is not None}

    async def daily_volume(self, query: StatsQuery, days: int) -> list[DailyVolume]:
        sql = volume_sql(query, quote_ident)
        first, start = volume_window(days)
        _, rows = await self._query(sql, [start])
        return zero_filled(first, days, {day: int(count) for day, count in rows})

    async def sample_rows(self, relation: Relation, limit: int) -> Rows:
        sql = f"SELECT * FROM {qualified(relation, quote_ident)} LIMIT {int(limit)}"
        columns, rows = await self._query(sql, [])
        return Rows(tuple(columns), tuple(rows))

    async def count_rows(self, relation: Relation, group_by: str | None = None) -> dict[str, int]:
        _, rows = await self._query(count_sql(relation, group_by, quote_ident), [])
        return {"NULL" if key is None else str(key): int(count) for key, count in rows}

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.to_thread(conn.close)

    async def _query(self, sql: str, params: Sequence[Any]) -> Result:
        self.queries += 1
        return await asyncio.to_thread(self._run, sql, list(params))

    def _run(self, sql: str, params: list[Any]) -> Result:
        try:
            return self._execute(self._connection(), sql, params)
        except (OperationalError, InterfaceError):
            # The session may have expired or the network dropped it: one fresh connection, one retry.
            self._drop()
        try:
            return self._execute(self._connection(), sql, params)
        except (OperationalError, InterfaceError) as exc:
            self._drop()
            raise BackendUnavailable(self._safe_message("lost the connection to", exc)) from exc

    @staticmethod
    def _execute(conn: SnowflakeConnection, sql: str, params: list[Any]) -> Result:
        with conn.cursor() as cursor:
            cursor.execute(sql, params or None)
            columns = [column[0] for column in cursor.description or ()]
            return columns, list(cursor.fetchall())

    def _connection(self) -> SnowflakeConnection:
        with self._connect_lock:
            if self._conn is None:
                try:
                    self._conn = connect(**self._connect_args())
                except Error as exc:
                    raise BackendUnavailable(self._safe_message("cannot connect to", exc)) from exc
            return self._conn

    def _drop(self) -> None:
        with self._connect_lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Error):  # the connection is broken already; closing is best effort
                conn.close()

    def _connect_args(self) -> dict[str, Any]:
        s = self._settings
        args: dict[str, Any] = {
            "account": s.snowflake_account,
            "user": s.snowflake_user,
            "role": s.snowflake_role,
            "warehouse": s.snowflake_warehouse,
            "database": s.snowflake_database,
            "schema": s.snowflake_schema,
            "host": s.snowflake_host,
            "port": s.snowflake_port,
            "paramstyle": "qmark",
            # A thread blocked in the connector cannot be interrupted from here: these bound it.
            # Logging in and each request wait at most the network timeout; a whole query, the
            # server's statement timeout plus that, so the server's clearer error comes first.
            "login_timeout": s.snowflake_network_timeout_s,
            "socket_timeout": s.snowflake_network_timeout_s,
            "network_timeout": s.snowflake_statement_timeout_s + s.snowflake_network_timeout_s,
            "session_parameters": {
                "QUERY_TAG": s.snowflake_query_tag,  # lets the data team see what the bot costs
                "STATEMENT_TIMEOUT_IN_SECONDS": s.snowflake_statement_timeout_s,
                "TIMEZONE": "UTC",  # days in daily volumes are UTC days
                "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False,
            },
        }
        if s.snowflake_host:
            args["protocol"] = s.snowflake_protocol
        if s.snowflake_password is not None:
            args["password"] = s.snowflake_password.get_secret_value()
        if s.snowflake_authenticator:
            args["authenticator"] = s.snowflake_authenticator
        if s.snowflake_private_key_file is not None:
            args["authenticator"] = "SNOWFLAKE_JWT"
            args["private_key_file"] = str(s.snowflake_private_key_file)
            if s.snowflake_private_key_file_pwd is not None:
                args["private_key_file_pwd"] = s.snowflake_private_key_file_pwd.get_secret_value()
        elif s.snowflake_private_key is not None:
            args["authenticator"] = "SNOWFLAKE_JWT"
            args["private_key"] = private_key_der(s.snowflake_private_key, s.snowflake_private_key_file_pwd)
        return {key: value for key, value in args.items() if value is not None}

    def _safe_message(self, what: str, exc: Error) -> str:
        """A message for Slack: the connector's own text, with every secret we hold blanked out."""
        text = f"{exc.msg or type(exc).__name__}"
        s = self._settings
        for secret in (s.snowflake_password, s.snowflake_private_key_file_pwd, s.snowflake_private_key):
            if secret is not None and secret.get_secret_value():
                text = text.replace(secret.get_secret_value(), "***")
        account = self._settings.snowflake_account or self._settings.snowflake_host or "?"
        return f"amd-bot {what} Snowflake (account {account}): {text}"


def private_key_der(key: SecretStr, passphrase: SecretStr | None) -> bytes:
    """A key given as text (PEM, or base64 DER as dbt-snowflake's `private_key` allows) as the
    unencrypted PKCS#8 DER bytes the connector takes."""
    text = key.get_secret_value().strip()
    password = passphrase.get_secret_value().encode() if passphrase else None
    if text.startswith("-----BEGIN"):
        loaded = serialization.load_pem_private_key(text.encode(), password)
    else:
        loaded = serialization.load_der_private_key(base64.b64decode(text), password)
    return loaded.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
