"""One row-mapping approach for every record kind: a record's fields are its table's
columns, by name; the field's type says how the value is kept in SQLite.

=====================  ===========================  ==============================
field type             column                       example
=====================  ===========================  ==============================
``datetime``           ISO 8601 text                ``2026-11-26T12:00:00+00:00``
``datetime | None``    ISO 8601 text or NULL
``StrEnum``            its value                    ``enroute``
``dict`` / ``list``    JSON text (``json.dumps``)   ``{"type": "Feature"}``
anything else          as is (text, number, NULL)
=====================  ===========================  ==============================
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _optional(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def _codec(kind: Any) -> tuple[Convert, Convert]:
    """(to the column, from the column) for a field of type ``kind``."""
    args = typing.get_args(kind)
    if isinstance(kind, types.UnionType) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        encode, decode = _codec(inner)
        return _optional(encode), _optional(decode)
    origin = typing.get_origin(kind) or kind
    if origin is datetime:
        return datetime.isoformat, datetime.fromisoformat
    if isinstance(origin, type) and issubclass(origin, StrEnum):
        return (lambda member: member.value), origin
    if origin in (dict, list):
        return json.dumps, json.loads
    return _same, _same


@dataclass(frozen=True, slots=True)
class Table(Generic[R]):
    """How records of one kind are written to and read from one table."""

    name: str
    record: type[R]
    encoders: dict[str, Convert]
    decoders: dict[str, Convert]

    @classmethod
    def of(cls, name: str, record: type[R]) -> Table[R]:
        hints = typing.get_type_hints(record)
        codecs = {f.name: _codec(hints[f.name]) for f in dataclasses.fields(record)}
        return cls(
            name,
            record,
            {column: codec[0] for column, codec in codecs.items()},
            {column: codec[1] for column, codec in codecs.items()},
        )

    def columns(self, *, without: Iterable[str] = ()) -> list[str]:
        skip = set(without)
        return [c for c in self.encoders if c not in skip]

    def to_row(self, record: R, *, without: Iterable[str] = ()) -> dict[str, Any]:
        """The record's columns as named statement arguments (``:column``)."""
        return {c: self.encoders[c](getattr(record, c)) for c in self.columns(without=without)}

    def from_row(self, row: sqlite3.Row) -> R:
        """A record from a ``SELECT *`` row (columns that are not fields are ignored)."""
        return self.record(**{c: decode(row[c]) for c, decode in self.decoders.items()})

    def insert_sql(self, *, without: Iterable[str] = ()) -> str:
        """``INSERT INTO name (a, b) VALUES (:a, :b)``; ``without``: e.g. an AUTOINCREMENT id."""
        names = self.columns(without=without)
        return (
            f"INSERT INTO {self.name} ({', '.join(names)})"
            f" VALUES ({', '.join(':' + n for n in names)})"
        )

    def update_sql(self, names: Iterable[str], *, key: str = "id") -> str:
        """``UPDATE name SET a = :a, b = :b WHERE key = :key``."""
        sets = ", ".join(f"{n} = :{n}" for n in names)
        return f"UPDATE {self.name} SET {sets} WHERE {key} = :{key}"


def id_list(ids: Iterable[str]) -> str:
    """``ids`` as a JSON array, one statement argument for ``IN (SELECT value FROM
    json_each(?))`` however many there are."""
    return json.dumps(list(ids))
