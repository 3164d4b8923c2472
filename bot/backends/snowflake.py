"""The production warehouse: Snowflake through snowflake-connector-python, run in threads.

One connection is opened lazily and shared (the connector is thread-safe per connection); a broken
connection is dropped and opened again once. Values are bound server-side (`qmark`), so no `%` in an
identifier can confuse client-side formatting; identifiers come from the dbt catalog and are quoted.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from snowflake.connector import SnowflakeConnection, connect
from snowflake.connector.errors import Error, InterfaceError, OperationalError

from bot.backends.sql import (
    as_utc,
    count_sql,
    qualified,
    quote,
    stats_sql,
    volume_sql,
    volume_window,
    zero_filled,
)
from bot.ports import BackendUnavailable, DailyVolume, EntityStats, Relation, Rows, StatsQuery
from bot.settings import Settings

_UNQUOTED = re.compile(r"[a-z_][a-z0-9_$]*")

Result = tuple[list[str], list[tuple[Any, ...]]]


def quote_ident(identifier: str) -> str:
    """Quote an identifier the way dbt-snowflake created it.

    dbt-snowflake does not quote by default, so Snowflake stored `payment` as PAYMENT while the manifest
    says `payment`; quoting it as written would miss the table. Anything else was created quoted.
    """
    return quote(identifier.upper() if _UNQUOTED.fullmatch(identifier) else identifier)


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
        return [EntityStats(str(entity), int(count), as_utc(last)) for entity, count, last in rows]

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
        if s.snowflake_private_key_file is not None:
            args["authenticator"] = "SNOWFLAKE_JWT"
            args["private_key_file"] = str(s.snowflake_private_key_file)
            if s.snowflake_private_key_file_pwd is not None:
                args["private_key_file_pwd"] = s.snowflake_private_key_file_pwd.get_secret_value()
        return {key: value for key, value in args.items() if value is not None}

    def _safe_message(self, what: str, exc: Error) -> str:
        """A message for Slack: the connector's own text, with every secret we hold blanked out."""
        text = f"{exc.msg or type(exc).__name__}"
        for secret in (self._settings.snowflake_password, self._settings.snowflake_private_key_file_pwd):
            if secret is not None and secret.get_secret_value():
                text = text.replace(secret.get_secret_value(), "***")
        account = self._settings.snowflake_account or self._settings.snowflake_host or "?"
        return f"amd-bot {what} Snowflake (account {account}): {text}"
