"""How the SQLite store keeps times and JSON (as text) and spells the SQL that differs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from dfr.store.dialect import Dialect


class SqliteDialect(Dialect):
    name = "sqlite"

    def time(self, value: datetime) -> str:
        return value.isoformat()  # the offset as given: UTC from dfr (records.py)

    def read_time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)

    def json(self, value: Any) -> str:
        return json.dumps(value)

    def read_json(self, value: Any) -> Any:
        return json.loads(value)

    def ids(self, ids: Iterable[str]) -> str:
        return json.dumps(list(ids))  # a JSON array, read back by json_each()

    def any_of(self, column: str) -> str:
        return f"{column} IN (SELECT value FROM json_each(?))"

    def id_rows(self, alias: str) -> str:
        return f"json_each(?) AS {alias}"

    def instant(self, expression: str) -> str:
        # the stored text may carry any offset (and fractions of a second)
        return f"julianday({expression})"


SQLITE = SqliteDialect()
