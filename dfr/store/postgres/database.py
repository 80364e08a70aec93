"""The PostgreSQL database under the store: a pool of psycopg connections, each in
autocommit mode with its time zone UTC; a write of several statements is one
transaction on one connection.

Several dfr processes may share the database. What two of them could race on is
decided by the database, never by a read-then-write here: one incident per CAD id and
one hold per dock by ``ON CONFLICT``, an incident's status from ``dispatched`` by the
``UPDATE``'s own ``WHERE``, ids by identity columns, and migrations under an advisory
lock (:mod:`.migrations`).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from dfr.errors import ConfigError
from dfr.store.database import Args, Database, Write
from dfr.store.postgres.dialect import POSTGRES
from dfr.store.postgres.migrations import POSTGRES_MIGRATIONS, migrate
from dfr.store.postgres.url import CONNECT_TIMEOUT_S, DatabaseUrl, parse_database_url
from dfr.store.rows import R, Row, Table

logger = logging.getLogger(__name__)

T = TypeVar("T")

POOL_MIN, POOL_MAX = 1, 10  # connections per service instance
POOL_WAIT_S = 30.0  # a statement waits this long for a free connection

Connection = AsyncConnection[DictRow]

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=512)
def psycopg_sql(sql: str) -> str:
    """A statement in SQLite's parameter style (``?``, ``:name``) in psycopg's (``%s``,
    ``%(name)s``). The store's statements hold no ``?``, ``:`` or ``%`` of their own
    (literals, operators); a ``::`` cast is left alone."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%")).replace("?", "%s")


def _libpq_defaults(url: DatabaseUrl) -> dict[str, Any]:
    """Connection parameters the URL may set, and dfr's where it does not."""
    defaults = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "dfr"}
    return {name: value for name, value in defaults.items() if name not in url.given}


async def _in_utc(conn: Connection) -> None:
    """Every time read back is in UTC, as the records want (``records.py``)."""
    await conn.execute("SET TIME ZONE 'UTC'")


class PostgresDatabase(Database):
    """The pool, and the primitives every record kind uses."""

    dialect = POSTGRES

    def __init__(self, url: DatabaseUrl | str) -> None:
        self.url = url if isinstance(url, DatabaseUrl) else parse_database_url(url)
        self._pool: AsyncConnectionPool[Connection] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        url = self.url
        try:
            conn = await AsyncConnection.connect(
                url.conninfo, autocommit=True, row_factory=dict_row, **_libpq_defaults(url)
            )
        except psycopg.Error as exc:
            raise self._unreachable(exc) from exc
        try:
            await _in_utc(conn)
            await migrate(conn, url.shown)
        finally:
            await conn.close()
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            url.conninfo,
            connection_class=Connection,
            kwargs={"autocommit": True, "row_factory": dict_row, **_libpq_defaults(url)},
            min_size=POOL_MIN,
            max_size=POOL_MAX,
            timeout=POOL_WAIT_S,
            configure=_in_utc,
            check=AsyncConnectionPool.check_connection,  # a server restart costs no error
            name="dfr-store",
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except PoolTimeout as exc:
            await pool.close()
            raise self._unreachable(exc) from exc
        self._pool = pool
        logger.info("store: PostgreSQL %s (schema version %d)", url.shown, len(POSTGRES_MIGRATIONS))

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def _unreachable(self, exc: Exception) -> ConfigError:
        reason = " ".join(self.url.scrubbed(str(exc)).split()) or type(exc).__name__
        return ConfigError(
            f"store: cannot connect to PostgreSQL at {self.url.shown}: {reason} (check "
            "DFR_DATABASE_URL, and that the server runs and lets this user connect there)"
        )

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        if self._pool is None:
            raise RuntimeError("store is not open")
        async with self._pool.connection() as conn:
            yield conn

    # -- the primitives ----------------------------------------------------------------

    async def _select(self, sql: str, args: Args, read: Callable[[Row], T]) -> list[T]:
        async with self._connection() as conn:
            cursor = await conn.execute(psycopg_sql(sql), args)
            return [read(row) for row in await cursor.fetchall()]

    async def _execute(self, sql: str, args: Args) -> int:
        async with self._connection() as conn:
            cursor = await conn.execute(psycopg_sql(sql), args)
            return cursor.rowcount

    async def _add(self, table: Table[R], record: R) -> int:
        sql = table.insert_sql(without=("id",)) + " RETURNING id"
        (new_id,) = await self._select(
            sql, self._row(table, record, without=("id",)), lambda row: int(row["id"])
        )
        return new_id

    async def _write_together(self, writes: Sequence[Write]) -> None:
        async with self._connection() as conn, conn.transaction(), conn.cursor() as cursor:
            for write in writes:
                await cursor.executemany(psycopg_sql(write.sql), write.rows)
