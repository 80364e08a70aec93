"""The SQLite database under the store: one file, WAL journal, ``synchronous=FULL``.

All statements run on one dedicated thread holding the one connection, so the event
loop never blocks on disk and writes are serialised without locks of our own. The
record kinds (:mod:`dfr.store.tables`) run their statements through the primitives of
:class:`dfr.store.database.Database` given here; a transaction is one call on the
thread (:func:`~dfr.store.sqlite.transaction.transaction`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from dfr.errors import ConfigError
from dfr.store.database import Args, Database, Write
from dfr.store.migrations import MIGRATIONS, migrate
from dfr.store.rows import R, Row, Table
from dfr.store.sqlite.dialect import SQLITE
from dfr.store.sqlite.transaction import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SqliteDatabase(Database):
    """The connection, its thread, and the primitives every record kind uses."""

    dialect = SQLITE

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dfr-store")
        await self._run(self._open_sync)
        logger.info("store: %s (schema version %d)", self.path, len(MIGRATIONS))

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._run(self._close_sync)
        self._executor.shutdown(wait=True)
        self._executor = None

    def _open_sync(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"store: cannot open database {self.path}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            migrate(conn, self.path)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- running statements ------------------------------------------------------------

    async def _run(self, fn: Callable[[], T]) -> T:
        """``fn`` on the store's thread (where ``self._db`` may be used)."""
        if self._executor is None:
            raise RuntimeError("store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    @property
    def _db(self) -> sqlite3.Connection:
        assert self._conn is not None, "store is not open"
        return self._conn

    async def _select(self, sql: str, args: Args, read: Callable[[Row], T]) -> list[T]:
        return await self._run(lambda: [read(r) for r in self._db.execute(sql, args)])

    async def _execute(self, sql: str, args: Args) -> int:
        cursor = await self._run(lambda: self._db.execute(sql, args))
        return cursor.rowcount

    async def _add(self, table: Table[R], record: R) -> int:
        sql = table.insert_sql(without=("id",))
        args = self._row(table, record, without=("id",))
        cursor = await self._run(lambda: self._db.execute(sql, args))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def _write_together(self, writes: Sequence[Write]) -> None:
        def work() -> None:
            db = self._db
            with transaction(db):
                for write in writes:
                    db.executemany(write.sql, write.rows)

        await self._run(work)
