from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dfr.errors import ConfigError
from dfr.records import (
    CommandState,
    Flight,
    FlightPhase,
    Incident,
    TrackPoint,
)
from dfr.store import SqliteStore
from tests import records_builders as build

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _incident(cad_id: str = "C1", nature: str = "shots fired", **changes: object) -> Incident:
    return build.incident(cad_id, T0, nature=nature, **changes)


def _flight(flight_id: str = "f1") -> Flight:
    return build.flight(flight_id, "inc-C1", T0, drone_id="fw1", dock_id="hq")


async def test_same_cad_id_returns_the_stored_incident(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "dfr.db") as store:
        first = await store.insert_incident(_incident())
        again = await store.insert_incident(_incident(id="other-id", nature="changed"))
        assert again == first
        assert [i.id for i in await store.list_incidents()] == ["inc-C1"]


async def test_everything_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "dfr.db"
    async with SqliteStore(path) as store:
        await store.insert_incident(_incident())
        await store.insert_flight(_flight(), "dispatched")
        await store.set_flight_phase(
            "f1", FlightPhase.LAUNCHING, "armed", T0 + timedelta(seconds=5)
        )
        cmd = await store.add_command(
            flight_id="f1",
            drone_id="fw1",
            type="orbit",
            params={"radius_m": 50},
            issued_by="pilot",
            issued_at=T0,
        )
        await store.add_track_points(
            [
                TrackPoint(
                    "f1",
                    T0 + timedelta(seconds=s),
                    32.7,
                    -97.3,
                    260.0,
                    60.0,
                    90.0,
                    15.0,
                    90.0,
                    "mission",
                )
                for s in range(3)
            ]
        )
        await store.add_alert(
            drone_id="fw1",
            flight_id="f1",
            kind="battery",
            severity="warning",
            message="battery 30 %",
            action="returning",
            at=T0,
        )
    async with SqliteStore(path) as store:
        flight = await store.get_flight("f1")
        assert flight is not None and flight.phase is FlightPhase.LAUNCHING
        assert [p.phase for p in await store.list_phases("f1")] == [
            FlightPhase.PREFLIGHT,
            FlightPhase.LAUNCHING,
        ]
        assert len(await store.list_track("f1")) == 3
        (pending,) = await store.list_commands(state=CommandState.PENDING)
        assert pending.id == cmd.id and pending.params == {"radius_m": 50}
        assert [f.id for f in await store.list_flights(active_only=True)] == ["f1"]
        assert (await store.list_alerts(flight_id="f1"))[0].action == "returning"


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
