"""The store contract tests run on both backends: ``store_backend`` is parametrized
over the SQLite file and a fresh PostgreSQL database (tests/postgres_server.py), and
makes as many stores on that one database as a test wants (a reopen, a second service
instance)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from dfr.store.postgres import PostgresStore
from dfr.store.sqlite import SqliteStore

BACKENDS = ["sqlite", "postgres"]


@dataclass(frozen=True, slots=True)
class StoreBackend:
    name: str  # "sqlite" | "postgres"
    make: Callable[[], SqliteStore | PostgresStore]  # a new, unopened store on the database
    integrity_error: type[Exception]  # what a broken key or constraint raises
    database_url: str | None = None  # for the service's settings (None: the SQLite file)


@pytest.fixture(params=BACKENDS)
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    if request.param == "sqlite":
        path = tmp_path / "dfr.db"
        return StoreBackend("sqlite", lambda: SqliteStore(path), sqlite3.IntegrityError)
    url: str = request.getfixturevalue("postgres_url")
    return StoreBackend("postgres", lambda: PostgresStore(url), psycopg.IntegrityError, url)
