"""The store reads and writes the database as earlier dfr versions did: an existing
data directory opens (and is migrated), and every column keeps its stored form."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dfr.auth.accounts import AccountState
from dfr.auth.api_keys import ApiKeys, KeyPreset
from dfr.auth.tokens import Role
from dfr.records import (
    CommandState,
    DockHold,
    Flight,
    FlightPhase,
    Incident,
    IncidentStatus,
    PhaseChange,
    Recording,
    UnitStatus,
)
from dfr.store import SqliteStore
from dfr.store.migrations import MIGRATIONS

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
T0_TEXT = "2026-11-26T12:00:00+00:00"


def schema_1_database(path: Path) -> None:
    """A database as dfr wrote it at schema version 1, rows as literal SQL."""
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version=1")
    conn.execute(
        "INSERT INTO incidents VALUES ('inc-1', 'C1', 'eido', 'fire', 2, 32.75, -97.33, 8.5,"
        " '1 Main St', 'smoke', ?, ?, ?, 'dispatched', '{\"call\": {\"id\": \"C1\"}}')",
        (T0_TEXT, T0_TEXT, T0_TEXT),
    )
    conn.execute(
        "INSERT INTO dispatch_decisions VALUES (1, 'inc-1', ?, 'auto_launch', 'd1',"
        ' \'[{"drone_id": "d1", "eta_s": 61.5}]\', \'[]\', 4.5)',
        (T0_TEXT,),
    )
    conn.execute(
        "INSERT INTO flights VALUES ('f1', 'inc-1', 'd1', 'hq', 'enroute', ?, ?, 61.5,"
        " '{\"type\": \"Feature\"}', NULL, '')",
        (T0_TEXT, T0_TEXT),
    )
    conn.execute(
        "INSERT INTO flight_phases VALUES (1, 'f1', 'docked', ?, 'auto-launch')", (T0_TEXT,)
    )
    conn.execute(
        "INSERT INTO commands VALUES (1, 'f1', 'd1', 'orbit', '{\"radius_m\": 50}', ?, 'pilot',"
        " 'pending', '', NULL)",
        (T0_TEXT,),
    )
    conn.commit()
    conn.close()


async def test_a_schema_1_data_directory_opens_migrated_and_reads_as_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "dfr.db"
    schema_1_database(path)
    async with SqliteStore(path) as store:
        assert await store.get_incident("inc-1") == Incident(
            id="inc-1",
            cad_id="C1",
            source="eido",
            nature="fire",
            priority=2,
            lat_deg=32.75,
            lon_deg=-97.33,
            address="1 Main St",
            notes="smoke",
            received_at=T0,
            created_at=T0,
            updated_at=T0,
            status=IncidentStatus.DISPATCHED,
            uncertainty_m=8.5,
            raw={"call": {"id": "C1"}},
        )
        (decision,) = await store.list_decisions("inc-1")
        assert decision.ranking == [{"drone_id": "d1", "eta_s": 61.5}]
        assert decision.decided_at == T0 and decision.elapsed_ms == 4.5
        assert await store.list_flights(active_only=True) == [
            Flight(
                "f1", "inc-1", "d1", "hq", FlightPhase.ENROUTE, T0, T0, 61.5, {"type": "Feature"}
            )
        ]
        assert await store.list_phases("f1") == [
            PhaseChange("f1", FlightPhase.DOCKED, T0, "auto-launch")
        ]
        (command,) = await store.list_commands(state=CommandState.PENDING)
        assert command.params == {"radius_m": 50} and command.finished_at is None
        # the tables of the later migrations are there
        added = await store.add_recording(
            Recording(0, "f1", "d1", "f1-1.mp4", 0.0, 0, "", 0, T0, None)
        )
        assert await store.list_open_recordings() == [added]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()


async def test_columns_keep_their_stored_form(tmp_path: Path) -> None:
    path = tmp_path / "dfr.db"
    async with SqliteStore(path) as store:
        await store.insert_incident(
            Incident(
                "inc-1",
                "C1",
                "json",
                "fire",
                2,
                32.75,
                -97.33,
                "",
                "",
                T0,
                T0,
                T0,
                IncidentStatus.NEW,
                raw={"call": {"a": [1, 2]}},
            )
        )
        await store.insert_flight(
            Flight("f1", "inc-1", "d1", "hq", FlightPhase.DOCKED, T0, T0, None, {"k": 1}), "go"
        )
        await store.add_alert(
            drone_id="d1",
            flight_id=None,
            kind="link",
            severity="info",
            message="m",
            action="a",
            at=T0,
        )
    conn = sqlite3.connect(path)
    assert conn.execute(
        "SELECT received_at, status, raw, uncertainty_m FROM incidents"
    ).fetchone() == (
        T0_TEXT,
        "new",
        json.dumps({"call": {"a": [1, 2]}}),
        None,
    )
    assert conn.execute("SELECT phase, route, ended_at, outcome FROM flights").fetchone() == (
        "docked",
        '{"k": 1}',
        None,
        "",
    )
    assert conn.execute("SELECT id, flight_id, at FROM alerts").fetchone() == (1, None, T0_TEXT)
    conn.close()


async def test_a_schema_4_data_directory_keeps_its_accounts_and_gains_api_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "dfr.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version=4")
    conn.execute(
        "INSERT INTO accounts VALUES ('chief', 'admin', '$argon2id$x', 'SECRET', NULL,"
        " 'active', ?)",
        (T0_TEXT,),
    )
    conn.commit()
    conn.close()
    async with SqliteStore(path) as store:
        account = await store.account("chief")
        assert account is not None and account.role is Role.ADMIN
        assert account.state is AccountState.ACTIVE and account.created_at == T0
        text, key = await ApiKeys(store).create("cad", KeyPreset.INTAKE, "chief", T0)
        assert (await ApiKeys(store).principal(text, T0)).name == "key:cad"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute(
        "SELECT id, preset, created_at, expires_at, revoked_at, last_used_at FROM api_keys"
    ).fetchone() == (key.id, "intake", T0_TEXT, "2027-02-24T12:00:00+00:00", None, T0_TEXT)
    conn.close()


async def test_a_schema_6_data_directory_opens_migrated_and_takes_units(tmp_path: Path) -> None:
    path = tmp_path / "dfr.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:6]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version=6")
    # a JSON call stored with a local offset, as dfr wrote them before it kept them in UTC
    conn.execute(
        "INSERT INTO incidents VALUES ('inc-1', 'C1', 'json', 'fire', 2, 32.75, -97.33, NULL,"
        " '', '', '2026-11-26T06:00:00-06:00', ?, ?, 'closed', '{}')",
        (T0_TEXT, T0_TEXT),
    )
    conn.commit()
    conn.close()
    async with SqliteStore(path) as store:
        assert await store.list_units(["inc-1"]) == []
        unit = UnitStatus("inc-1", "4B", T0, None, T0)
        await store.put_units([unit])
        arrived = UnitStatus("inc-1", "4B", T0, T0 + timedelta(minutes=5), T0)
        await store.put_units([arrived])  # the same unit again replaces it
        assert await store.list_units(["inc-1"]) == [arrived]
        # the window compares instants, whatever offset the text was written with
        assert [
            i.id for i in await store.list_incidents_received(T0, T0 + timedelta(seconds=1))
        ] == ["inc-1"]
        assert await store.list_incidents_received(T0 + timedelta(seconds=1), None) == []
        assert await store.list_incidents_received(None, T0) == []
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 7
    assert conn.execute("SELECT * FROM incident_units").fetchone() == (
        "inc-1",
        "4B",
        T0_TEXT,
        "2026-11-26T12:05:00+00:00",
        T0_TEXT,
    )
    conn.close()


async def test_a_schema_7_data_directory_opens_migrated_and_holds_docks(tmp_path: Path) -> None:
    path = tmp_path / "dfr.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:7]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version=7")
    conn.execute(
        "INSERT INTO incident_units VALUES ('inc-1', '4B', ?, NULL, ?)", (T0_TEXT, T0_TEXT)
    )
    conn.commit()
    conn.close()
    async with SqliteStore(path) as store:
        assert [u.unit_id for u in await store.list_units(["inc-1"])] == ["4B"]
        assert await store.list_dock_holds() == []
        hold = DockHold("hq", "lightning within 10 km", "sam", T0)
        assert await store.insert_dock_hold(hold)
        again = DockHold("hq", "something else", "kim", T0 + timedelta(minutes=1))
        assert not await store.insert_dock_hold(again)  # the first hold stands
        assert await store.list_dock_holds() == [hold]
    async with SqliteStore(path) as store:  # it outlives a restart
        assert await store.list_dock_holds() == [hold]
        assert await store.delete_dock_hold("hq")
        assert not await store.delete_dock_hold("hq")
        assert await store.list_dock_holds() == []
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 8
    conn.close()
