"""How the PostgreSQL store keeps times (``timestamptz``, read back in UTC) and JSON
(``json``: the text as given, so keys keep their order as in SQLite), and spells the
SQL that differs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from psycopg.types.json import Json

from dfr.store.dialect import Dialect


class PostgresDialect(Dialect):
    name = "postgresql"

    def time(self, value: datetime) -> datetime:
        return value  # timestamptz keeps the instant to the microsecond

    def read_time(self, value: Any) -> datetime:
        assert isinstance(value, datetime) and value.tzinfo is not None, value
        return value  # in UTC: every connection's TimeZone is UTC

    def text(self, value: str) -> str:
        # PostgreSQL's text cannot hold NUL, which SQLite keeps: a CAD call whose notes
        # carry one is stored all the same (its raw JSON keeps the character exactly)
        return value.replace("\x00", "\ufffd")

    def json(self, value: Any) -> Json:
        return Json(value)  # json.dumps, as SQLite's text

    def read_json(self, value: Any) -> Any:
        return value  # psycopg parsed it (json.loads)

    def ids(self, ids: Iterable[str]) -> list[str]:
        return list(ids)  # a text[] argument

    def any_of(self, column: str) -> str:
        return f"{column} = ANY(CAST(? AS text[]))"

    def id_rows(self, alias: str) -> str:
        return f"unnest(CAST(? AS text[])) AS {alias}(value)"

    def instant(self, expression: str) -> str:
        return f"CAST({expression} AS timestamptz)"


POSTGRES = PostgresDialect()
