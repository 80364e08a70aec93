"""What differs between the store's two databases for the SQL both run
(:mod:`dfr.store.tables`): how a time and a JSON value are kept in a column, and the few
pieces of SQL the two spell differently.

The statements are written once, in SQLite's parameter style (``?`` and ``:name``);
the PostgreSQL database turns them into psycopg's (``%s`` and ``%(name)s``) in one place,
:func:`dfr.store.postgres.database.psycopg_sql`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import Any


class Dialect(ABC):
    name: str  # "sqlite" | "postgresql"

    @abstractmethod
    def time(self, value: datetime) -> Any:
        """A time as its column keeps it."""

    @abstractmethod
    def read_time(self, value: Any) -> datetime:
        """A time from its column."""

    @abstractmethod
    def json(self, value: Any) -> Any:
        """A dict or list as its column keeps it."""

    @abstractmethod
    def read_json(self, value: Any) -> Any:
        """A dict or list from its column."""

    @abstractmethod
    def ids(self, ids: Iterable[str]) -> Any:
        """``ids`` as the one statement argument that :meth:`any_of` and :meth:`id_rows`
        take, however many there are."""

    @abstractmethod
    def any_of(self, column: str) -> str:
        """SQL true where ``column`` is one of the ids of one ``?`` argument."""

    @abstractmethod
    def id_rows(self, alias: str) -> str:
        """A FROM item named ``alias``: one row, column ``value``, per id of one ``?``
        argument."""

    @abstractmethod
    def instant(self, expression: str) -> str:
        """``expression`` (a time column or argument) as a value that compares and sorts
        as an instant, whatever offset it was written with; NULL stays NULL."""

    def text(self, value: str) -> str:
        """A record's text as its column can keep it."""
        return value

    def maybe_time(self, value: datetime | None) -> Any:
        return None if value is None else self.time(value)
