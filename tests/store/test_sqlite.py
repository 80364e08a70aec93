"""What is particular to the SQLite store's file; the store's contract, on both
backends, is in test_store_contract.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dfr.errors import ConfigError
from dfr.store import SqliteStore


async def test_database_is_wal_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "dfr.db"
    async with SqliteStore(path):
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
        conn.close()


async def test_newer_schema_is_refused_without_touching_it(tmp_path: Path) -> None:
    path = tmp_path / "dfr.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=999")
    conn.close()
    store = SqliteStore(path)
    with pytest.raises(ConfigError, match="newer than this dfr"):
        await store.open()
    await store.close()
