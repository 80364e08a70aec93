"""SQLite's and PostgreSQL's migrations make the same schema: the same tables, columns
(in order, with the same NOT NULL, defaults and keys) and indexes; each PostgreSQL column
has the type its record field asks for (timestamptz for a time, json for a dict or
list). A migration added to one list and not to the other fails here."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from dfr.store.migrations import MIGRATIONS
from dfr.store.postgres import PostgresStore
from dfr.store.postgres.migrations import POSTGRES_MIGRATIONS
from dfr.store.rows import Table, _Json, _Optional, _Time
from dfr.store.sqlite import SqliteStore
from dfr.store.tables import (
    alerts,
    api_keys,
    commands,
    dock_holds,
    flights,
    incidents,
    recordings,
    track,
    units,
    viewer_links,
)

TABLES: list[Table[Any]] = [
    incidents.INCIDENTS,
    incidents.DECISIONS,
    flights.FLIGHTS,
    flights.PHASES,
    track.TRACK,
    commands.COMMANDS,
    alerts.ALERTS,
    recordings.RECORDINGS,
    units.UNITS,
    dock_holds.DOCK_HOLDS,
    api_keys.API_KEYS,
    viewer_links.VIEWER_LINKS,
]
SQLITE_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text"}

Columns = dict[str, list[tuple[str, bool, str | None, bool]]]  # name, not null, default, pk


def _sqlite_schema(path: Path) -> tuple[Columns, dict[str, str], set[tuple[str, str]]]:
    """Columns per table, each column's declared type, and (table, index) names."""
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        columns: Columns = {}
        types: dict[str, str] = {}
        for table in names:
            info = conn.execute(f"PRAGMA table_info({table})").fetchall()
            columns[table] = [(c[1], bool(c[3]) or bool(c[5]), c[4], bool(c[5])) for c in info]
            types.update({f"{table}.{c[1]}": c[2] for c in info})
        indexes = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'"
                " AND name NOT LIKE 'sqlite_autoindex%'"
            )
        }
    finally:
        conn.close()
    return columns, types, indexes


def _postgres_schema(url: str) -> tuple[Columns, dict[str, str], set[tuple[str, str]]]:
    with psycopg.connect(url) as conn:
        keys = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT k.table_name, k.column_name FROM information_schema.table_constraints c"
                " JOIN information_schema.key_column_usage k USING (constraint_schema,"
                " constraint_name) WHERE c.constraint_type = 'PRIMARY KEY'"
                " AND c.table_schema = current_schema()"
            )
        }
        rows = conn.execute(
            "SELECT table_name, column_name, is_nullable, column_default, data_type"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name <> 'dfr_schema' ORDER BY table_name, ordinal_position"
        ).fetchall()
        columns: Columns = {}
        types: dict[str, str] = {}
        for table, column, nullable, default, data_type in rows:
            if default is not None:
                default = default.split("::")[0]  # ''::text -> ''
            pk = (table, column) in keys
            columns.setdefault(table, []).append((column, nullable == "NO", default, pk))
            types[f"{table}.{column}"] = data_type
        indexes = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        }
    return columns, types, indexes


def _wanted_type(table: str, column: str, sqlite_type: str) -> str:
    """The PostgreSQL type for a column: from its record field where a Table maps it,
    else from SQLite's type (times by their names)."""
    for mapped in TABLES:
        if mapped.name == table and column in mapped.codecs:
            codec = mapped.codecs[column]
            inner = codec.inner if isinstance(codec, _Optional) else codec
            if isinstance(inner, _Time):
                return "timestamp with time zone"
            if isinstance(inner, _Json):
                return "json"
    if sqlite_type == "TEXT" and (column == "at" or column.endswith("_at")):
        return "timestamp with time zone"
    return SQLITE_TYPES[sqlite_type]


async def test_both_migrations_make_the_same_schema(tmp_path: Path, postgres_url: str) -> None:
    assert len(POSTGRES_MIGRATIONS) == len(MIGRATIONS)
    async with SqliteStore(tmp_path / "dfr.db"), PostgresStore(postgres_url):
        pass
    sqlite_columns, sqlite_types, sqlite_indexes = _sqlite_schema(tmp_path / "dfr.db")
    pg_columns, pg_types, pg_indexes = _postgres_schema(postgres_url)

    assert sorted(pg_columns) == sorted(sqlite_columns)
    for table, columns in sqlite_columns.items():
        assert pg_columns[table] == columns, table
    assert pg_indexes == sqlite_indexes
    wanted = {}
    for name, sqlite_type in sqlite_types.items():
        table_name, column = name.split(".")
        wanted[name] = _wanted_type(table_name, column, sqlite_type)
    assert wanted == pg_types
    # every record's fields are columns of its table (flight_phases has an id besides)
    for mapped in TABLES:
        assert set(mapped.columns()) <= {c[0] for c in pg_columns[mapped.name]}, mapped.name
