"""The test PostgreSQL itself: without Debian's server binaries a test that needs it
fails saying what to install; with them, it is a real server that stops with the
session."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests import postgres_server
from tests.postgres_server import PostgresServer


def test_without_the_binaries_the_test_fails_saying_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_server, "SERVER_ROOT", tmp_path)
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y postgresql"):
        postgres_server.server_binaries()


def test_each_test_gets_its_own_database_on_loopback(postgres_server: PostgresServer) -> None:
    first, second = postgres_server.create_database(), postgres_server.create_database()
    assert first != second and first.startswith("postgresql://dfr@127.0.0.1:")
    with psycopg.connect(first) as conn:
        row = conn.execute("SELECT current_database(), inet_server_addr()::text").fetchone()
    assert row is not None and row[0] == first.rsplit("/", 1)[1] and row[1] == "127.0.0.1/32"
    assert postgres_server.process.poll() is None
