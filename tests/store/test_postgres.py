"""What is particular to the PostgreSQL store: its schema version and migrations, the
stored forms of its columns, and what a wrong DFR_DATABASE_URL or an unreachable server
says (never the password). The contract, on both backends, is test_store_contract.py."""

from __future__ import annotations

import asyncio
import json
import socket
import traceback
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from dfr.cli import main
from dfr.config import Settings
from dfr.errors import ConfigError
from dfr.records import FlightPhase, IncidentStatus
from dfr.store.backend import store_for
from dfr.store.postgres import PostgresStore
from dfr.store.postgres.migrations import POSTGRES_MIGRATIONS
from dfr.store.postgres.url import parse_database_url
from dfr.store.sqlite import SqliteStore
from tests import records_builders as build
from tests.postgres_server import PostgresServer

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SECRET = "s3cret-Pa55"


def _shown(error: BaseException) -> str:
    """The error as a traceback shows it, with what it was raised from."""
    return "".join(traceback.format_exception(error))


def _version(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT version FROM dfr_schema").fetchone()
        assert row is not None
        return int(row[0])


async def test_instances_starting_together_migrate_once(postgres_url: str) -> None:
    stores = [PostgresStore(postgres_url) for _ in range(4)]
    await asyncio.gather(*(store.open() for store in stores))
    try:
        assert _version(postgres_url) == len(POSTGRES_MIGRATIONS)
        await stores[0].insert_incident(build.incident("C1", T0))
        assert [i.id for i in await stores[3].list_incidents()] == ["inc-C1"]
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_a_newer_schema_is_refused_untouched(postgres_url: str) -> None:
    async with PostgresStore(postgres_url):
        pass
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE dfr_schema SET version = 999")
    store = PostgresStore(postgres_url)
    with pytest.raises(ConfigError, match=r"schema version 999, newer than this dfr \(8\)"):
        await store.open()
    await store.close()
    assert _version(postgres_url) == 999


async def test_a_database_of_something_else_is_refused_untouched(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(ConfigError, match="not a dfr database; name an empty database"):
        await PostgresStore(postgres_url).open()
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    assert tables == [("invoices",)]


async def test_a_schema_1_database_opens_migrated_and_reads_as_written(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        for statement in POSTGRES_MIGRATIONS[0].split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("CREATE TABLE dfr_schema (version integer NOT NULL)")
        conn.execute("INSERT INTO dfr_schema VALUES (1)")
        conn.execute(
            "INSERT INTO incidents VALUES ('inc-1', 'C1', 'eido', 'fire', 2, 32.75, -97.33,"
            " 8.5, '1 Main St', 'smoke', '2026-11-26 06:00-06', %s, %s, 'dispatched',"
            ' \'{"call": {"id": "C1"}}\')',
            (T0, T0),
        )
        conn.execute(
            "INSERT INTO flights (id, incident_id, drone_id, dock_id, phase, created_at,"
            " updated_at, route) VALUES ('f1', 'inc-1', 'd1', 'hq', 'enroute', %s, %s, '{}')",
            (T0, T0),
        )
    async with PostgresStore(postgres_url) as store:
        incident = await store.get_incident("inc-1")
        assert incident is not None and incident.received_at == T0
        assert incident.raw == {"call": {"id": "C1"}} and incident.uncertainty_m == 8.5
        assert incident.status is IncidentStatus.DISPATCHED
        (flight,) = await store.list_flights(active_only=True)
        assert (flight.phase, flight.ended_at, flight.outcome) == (FlightPhase.ENROUTE, None, "")
        assert await store.list_dock_holds() == []  # migration 8's table is there
    assert _version(postgres_url) == len(POSTGRES_MIGRATIONS)


async def test_columns_keep_postgresql_types(postgres_url: str) -> None:
    raw = {"call": {"b": [1, 2], "a": None}}
    async with PostgresStore(postgres_url) as store:
        await store.insert_incident(build.incident("C1", T0, raw=raw))
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT pg_typeof(received_at)::text, received_at, raw::text, status FROM incidents"
        ).fetchone()
    assert row is not None
    assert row[0] == "timestamp with time zone" and row[1] == T0
    assert row[2] == json.dumps(raw) and row[3] == "new"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"mysql://dfr:{SECRET}@db/dfr", "must be a PostgreSQL URL"),
        (f"dfr:{SECRET}@db/dfr", "must be a PostgreSQL URL"),
        (f"postgresql://dfr:{SECRET}@db:port/dfr", "cannot be read"),
        (f"postgresql://dfr:{SECRET}@db/dfr?bogus=1", 'invalid URI query parameter: "bogus"'),
        (f"postgresql://dfr:{SECRET}@db:5432", "names no database"),
    ],
)
def test_a_wrong_url_says_what_to_fix_without_the_password(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as refused:
        parse_database_url(url)
    assert SECRET not in _shown(refused.value)


def test_the_shown_url_hides_the_password() -> None:
    url = parse_database_url(f"postgresql://dfr:{SECRET}@db:5432/dfr?sslmode=require")
    assert url.shown == "postgresql://dfr:***@db:5432/dfr?sslmode=require"
    assert SECRET not in repr(url)
    query = parse_database_url(f"postgresql://db/dfr?user=dfr&password={SECRET}")
    assert query.shown == "postgresql://db/dfr?user=dfr&password=***"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_server_or_missing_database_is_a_config_error(
    postgres_server: PostgresServer,
) -> None:
    url = f"postgresql://dfr:{SECRET}@127.0.0.1:{_closed_port()}/dfr"
    with pytest.raises(ConfigError, match="cannot connect to PostgreSQL at") as refused:
        await PostgresStore(url).open()
    message = str(refused.value)
    assert "postgresql://dfr:***@127.0.0.1" in message and "Connection refused" in message
    assert "DFR_DATABASE_URL" in message and SECRET not in _shown(refused.value)
    with pytest.raises(ConfigError, match='database "nope" does not exist'):
        await PostgresStore(postgres_server.url("nope")).open()


def test_the_setting_chooses_the_store(tmp_path: Path, postgres_url: str) -> None:
    assert isinstance(store_for(Settings(data_dir=tmp_path)), SqliteStore)
    assert isinstance(store_for(Settings(data_dir=tmp_path, database_url="")), SqliteStore)
    chosen = store_for(Settings(data_dir=tmp_path, database_url=postgres_url))
    assert isinstance(chosen, PostgresStore) and chosen.url.shown == postgres_url


def test_dfr_user_writes_to_the_database_of_the_setting(
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DFR_DATABASE_URL", postgres_url)
    assert main(["user", "add", "alice", "--role", "pilot", "--data-dir", str(tmp_path)]) == 0
    assert "user alice (pilot)" in capsys.readouterr().out
    assert not (tmp_path / "dfr.db").exists()  # not the SQLite file
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT username, role FROM accounts").fetchall() == [
            ("alice", "pilot")
        ]
    monkeypatch.setenv(
        "DFR_DATABASE_URL", f"postgresql://dfr:{SECRET}@127.0.0.1:{_closed_port()}/x"
    )
    assert main(["key", "list", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dfr key: store: cannot connect to PostgreSQL at postgresql://dfr:***@")
    assert SECRET not in err and "Traceback" not in err


async def test_connections_the_server_dropped_cost_no_error(postgres_url: str) -> None:
    """A server restart or an idle timeout drops the pool's connections: the pool checks
    each before use and connects anew."""
    async with PostgresStore(postgres_url) as store:
        await store.insert_incident(build.incident("C1", T0))
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            (dropped,) = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'dfr' AND datname = current_database()"
            ).fetchone() or (0,)
        assert dropped >= 1
        assert [i.cad_id for i in await store.list_incidents()] == ["C1"]
