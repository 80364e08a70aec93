"""What the record kinds (:mod:`dfr.store.tables`) need from a database, and the query
helpers they share. SQLite (:mod:`dfr.store.sqlite.database`) and PostgreSQL
(:mod:`dfr.store.postgres.database`) each give the five primitives; everything above
them is written once.

Statements are in SQLite's parameter style (``?``, ``:name``); what the two databases
spell differently comes from :attr:`Database.dialect`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

from dfr.store.dialect import Dialect
from dfr.store.rows import R, Row, Table

T = TypeVar("T")

Args = tuple[Any, ...] | list[Any] | dict[str, Any]


@dataclass(frozen=True, slots=True)
class Write:
    """One statement, run once for each of ``rows`` (its arguments)."""

    sql: str
    rows: Sequence[Args]


class Database(ABC):
    dialect: ClassVar[Dialect]

    # -- lifecycle ---------------------------------------------------------------------

    @abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema to this dfr's (idempotent)."""

    @abstractmethod
    async def close(self) -> None:
        """Disconnect (idempotent)."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the primitives ----------------------------------------------------------------

    @abstractmethod
    async def _select(self, sql: str, args: Args, read: Callable[[Row], T]) -> list[T]:
        """The rows of one query, each through ``read``."""

    @abstractmethod
    async def _execute(self, sql: str, args: Args) -> int:
        """One statement on its own (it commits by itself): how many rows it changed."""

    @abstractmethod
    async def _add(self, table: Table[R], record: R) -> int:
        """Insert a record whose ``id`` the database gives: the new id (``record.id`` is
        ignored)."""

    @abstractmethod
    async def _write_together(self, writes: Sequence[Write]) -> None:
        """The writes in one transaction: all of them, or (on any exception, cancellation
        included) none."""

    # -- shared helpers ----------------------------------------------------------------

    def _row(self, table: Table[R], record: R, *, without: Iterable[str] = ()) -> dict[str, Any]:
        return table.to_row(record, self.dialect, without=without)

    async def _fetch_one(self, table: Table[R], sql: str, args: Args) -> R | None:
        rows = await self._fetch_all(table, sql, args)
        return rows[0] if rows else None

    async def _fetch_all(self, table: Table[R], sql: str, args: Args = ()) -> list[R]:
        dialect = self.dialect
        return await self._select(sql, args, lambda row: table.from_row(row, dialect))
