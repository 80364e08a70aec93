"""One row-mapping approach for every record kind and both databases: a record's fields
are its table's columns, by name; the field's type says how the value is kept, and the
database's :class:`~dfr.store.dialect.Dialect` how that kind of value is spelled.

=====================  ===============================  ============================
field type             SQLite column                    PostgreSQL column
=====================  ===============================  ============================
``datetime``           ISO 8601 text                    ``timestamptz``
                       (``2026-11-26T12:00:00+00:00``)
``datetime | None``    ISO 8601 text or NULL            ``timestamptz`` or NULL
``StrEnum``            its value (``enroute``)          its value, ``text``
``dict`` / ``list``    JSON text (``json.dumps``)       ``json`` (its text as given)
``str``                as is                            as is, but U+0000 as U+FFFD
anything else          as is (number, NULL)             as is
=====================  ===============================  ============================
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from dfr.store.dialect import Dialect

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


class Row(Protocol):
    """A row as either driver gives it (``sqlite3.Row``, psycopg's ``dict_row``)."""

    def __getitem__(self, column: str, /) -> Any: ...


class Codec(Protocol):
    def to_column(self, value: Any, dialect: Dialect) -> Any: ...

    def from_column(self, value: Any, dialect: Dialect) -> Any: ...


class _Plain:
    def to_column(self, value: Any, dialect: Dialect) -> Any:
        return value

    def from_column(self, value: Any, dialect: Dialect) -> Any:
        return value


class _Text:
    def to_column(self, value: str, dialect: Dialect) -> str:
        return dialect.text(value)

    def from_column(self, value: str, dialect: Dialect) -> str:
        return value


class _Time:
    def to_column(self, value: datetime, dialect: Dialect) -> Any:
        return dialect.time(value)

    def from_column(self, value: Any, dialect: Dialect) -> datetime:
        return dialect.read_time(value)


class _Json:
    def to_column(self, value: Any, dialect: Dialect) -> Any:
        return dialect.json(value)

    def from_column(self, value: Any, dialect: Dialect) -> Any:
        return dialect.read_json(value)


@dataclass(frozen=True, slots=True)
class _Enum:
    kind: type[StrEnum]

    def to_column(self, value: StrEnum, dialect: Dialect) -> str:
        return value.value

    def from_column(self, value: str, dialect: Dialect) -> StrEnum:
        return self.kind(value)


@dataclass(frozen=True, slots=True)
class _Optional:
    inner: Codec

    def to_column(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.inner.to_column(value, dialect)

    def from_column(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.inner.from_column(value, dialect)


def _codec(kind: Any) -> Codec:
    """How a field of type ``kind`` is kept."""
    args = typing.get_args(kind)
    if isinstance(kind, types.UnionType) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        return _Optional(_codec(inner))
    origin = typing.get_origin(kind) or kind
    if origin is datetime:
        return _Time()
    if isinstance(origin, type) and issubclass(origin, StrEnum):
        return _Enum(origin)
    if origin in (dict, list):
        return _Json()
    if origin is str:
        return _Text()
    return _Plain()


@dataclass(frozen=True, slots=True)
class Table(Generic[R]):
    """How records of one kind are written to and read from one table."""

    name: str
    record: type[R]
    codecs: dict[str, Codec]

    @classmethod
    def of(cls, name: str, record: type[R]) -> Table[R]:
        hints = typing.get_type_hints(record)
        return cls(
            name, record, {f.name: _codec(hints[f.name]) for f in dataclasses.fields(record)}
        )

    def columns(self, *, without: Iterable[str] = ()) -> list[str]:
        skip = set(without)
        return [c for c in self.codecs if c not in skip]

    def to_row(self, record: R, dialect: Dialect, *, without: Iterable[str] = ()) -> dict[str, Any]:
        """The record's columns as named statement arguments (``:column``)."""
        return {
            c: self.codecs[c].to_column(getattr(record, c), dialect)
            for c in self.columns(without=without)
        }

    def from_row(self, row: Row, dialect: Dialect) -> R:
        """A record from a ``SELECT *`` row (columns that are not fields are ignored)."""
        return self.record(
            **{c: codec.from_column(row[c], dialect) for c, codec in self.codecs.items()}
        )

    def insert_sql(self, *, without: Iterable[str] = ()) -> str:
        """``INSERT INTO name (a, b) VALUES (:a, :b)``; ``without``: e.g. a generated id."""
        names = self.columns(without=without)
        return (
            f"INSERT INTO {self.name} ({', '.join(names)})"
            f" VALUES ({', '.join(':' + n for n in names)})"
        )

    def update_sql(self, names: Iterable[str], *, key: str = "id") -> str:
        """``UPDATE name SET a = :a, b = :b WHERE key = :key``."""
        sets = ", ".join(f"{n} = :{n}" for n in names)
        return f"UPDATE {self.name} SET {sets} WHERE {key} = :{key}"
