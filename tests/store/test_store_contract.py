"""The store's contract (dfr/store/store.py), the same tests on both backends: SQLite and
PostgreSQL (``store_backend``, tests/store_backends.py). What is particular to one
backend's files or schema is in test_sqlite.py, test_compatibility.py and
test_postgres.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dfr.errors import InvalidStateError, NotFound
from dfr.records import (
    CommandState,
    DockHold,
    Flight,
    FlightEnd,
    FlightPhase,
    Incident,
    IncidentStatus,
    Recording,
    TrackPoint,
    UnitStatus,
)
from tests import records_builders as build
from tests.store_backends import StoreBackend

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _incident(cad_id: str = "C1", nature: str = "shots fired", **changes: object) -> Incident:
    return build.incident(cad_id, T0, nature=nature, **changes)


def _flight(flight_id: str = "f1") -> Flight:
    return build.flight(flight_id, "inc-C1", T0, drone_id="fw1", dock_id="hq")


def _point(flight_id: str, at: datetime, battery_pct: float = 90.0) -> TrackPoint:
    return TrackPoint(flight_id, at, 32.7, -97.3, 260.0, 60.0, 90.0, 15.0, battery_pct, "mission")


async def test_same_cad_id_returns_the_stored_incident(store_backend: StoreBackend) -> None:
    async with store_backend.make() as store:
        first = await store.insert_incident(_incident())
        again = await store.insert_incident(_incident(id="other-id", nature="changed"))
        assert again == first
        assert await store.insert_incident(first) == first  # the very same call again
        assert [i.id for i in await store.list_incidents()] == ["inc-C1"]
        with pytest.raises(InvalidStateError, match="inc-C1 is another call's"):
            await store.insert_incident(_incident("C2", id="inc-C1"))
        assert await store.get_incident_by_cad_id("C2") is None


async def test_two_instances_taking_one_call_at_once_store_one_incident(
    store_backend: StoreBackend,
) -> None:
    """Several service instances may get the same CAD call at the same moment (pairs of
    the very same record, and records of other ids)."""
    async with store_backend.make() as one, store_backend.make() as other:
        calls = [
            store.insert_incident(_incident(id=f"inc-{n}", nature=f"copy {n}"))
            for n in range(8)
            for store in (one, other)
        ]
        stored = await asyncio.gather(*calls)
        (only,) = await one.list_incidents()
        assert all(incident == only for incident in stored)


async def test_everything_survives_a_reopen(store_backend: StoreBackend) -> None:
    async with store_backend.make() as store:
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
        await store.add_track_points([_point("f1", T0 + timedelta(seconds=s)) for s in range(3)])
        await store.add_alert(
            drone_id="fw1",
            flight_id="f1",
            kind="battery",
            severity="warning",
            message="battery 30 %",
            action="returning",
            at=T0,
        )
    async with store_backend.make() as store:
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


async def test_times_keep_their_instant_to_the_microsecond_and_json_its_order(
    store_backend: StoreBackend,
) -> None:
    received = datetime(2026, 11, 26, 6, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-6)))
    raw = {"z": 1, "a": [1, 2.5, None], "m": {"y": "é", "b": True}}
    async with store_backend.make() as store:
        await store.insert_incident(_incident(received_at=received, raw=raw))
        stored = await store.get_incident("inc-C1")
        assert stored is not None
        assert stored.received_at == received  # the same instant …
        assert stored.received_at.utcoffset() is not None  # … aware
        assert stored.raw == raw and list(stored.raw) == ["z", "a", "m"]
        assert list(stored.raw["m"]) == ["y", "b"]


async def test_a_call_with_a_nul_character_is_stored_all_the_same(
    store_backend: StoreBackend,
) -> None:
    """SQLite keeps U+0000 in text; PostgreSQL's text cannot, and keeps U+FFFD instead.
    Either way the call is stored, found again by its CAD id, and its raw JSON is exact."""
    call = _incident("C\x001", id="inc-nul", notes="gate\x00code", raw={"notes": "gate\x00code"})
    async with store_backend.make() as store:
        await store.insert_incident(call)
        again = await store.insert_incident(call)
        stored = await store.get_incident(call.id)
    kept = "\ufffd" if store_backend.name == "postgres" else "\x00"
    assert stored == again and stored is not None
    assert (stored.cad_id, stored.notes) == (f"C{kept}1", f"gate{kept}code")
    assert stored.raw == {"notes": "gate\x00code"}


async def test_a_failed_write_leaves_nothing_of_its_transaction(
    store_backend: StoreBackend,
) -> None:
    async with store_backend.make() as store:
        flight = Flight("f1", None, "d1", "hq", FlightPhase.DOCKED, T0, T0, None, {})
        await store.insert_flight(flight, "first")
        with pytest.raises(store_backend.integrity_error):
            await store.insert_flight(flight, "again")  # the flight row fails: no phase row
        assert [p.reason for p in await store.list_phases("f1")] == ["first"]
        with pytest.raises(store_backend.integrity_error):  # no such flight: no phase row
            await store.set_flight_phase("nope", FlightPhase.ENROUTE, "x", T0)
        assert await store.list_phases_of(["nope"]) == []


async def test_a_terminal_phase_ends_the_flight_and_closes_only_a_dispatched_incident(
    store_backend: StoreBackend,
) -> None:
    async with store_backend.make() as store:
        await store.insert_incident(_incident(status=IncidentStatus.DISPATCHED))
        await store.insert_incident(_incident("C2", status=IncidentStatus.CANCELLED))
        await store.insert_flight(_flight(), "go")
        await store.insert_flight(
            build.flight("f2", "inc-C2", T0, drone_id="fw2", dock_id="hq"), "go"
        )
        at = T0 + timedelta(minutes=5)
        end = FlightEnd("docked", IncidentStatus.CLOSED)
        for flight_id in ("f1", "f2"):
            ended = await store.set_flight_phase(
                flight_id, FlightPhase.DOCKED, "landed", at, end=end
            )
            assert (ended.phase, ended.ended_at, ended.outcome) == (
                FlightPhase.DOCKED,
                at,
                "docked",
            )
        closed, cancelled = await store.get_incident("inc-C1"), await store.get_incident("inc-C2")
        assert closed is not None and closed.status is IncidentStatus.CLOSED
        assert closed.updated_at == at
        assert cancelled is not None and cancelled.status is IncidentStatus.CANCELLED
        assert await store.list_flights(active_only=True) == []


async def test_updates_of_what_does_not_exist_say_so(store_backend: StoreBackend) -> None:
    async with store_backend.make() as store:
        with pytest.raises(NotFound):
            await store.update_incident(_incident())
        with pytest.raises(NotFound):
            await store.end_flight("nope", "aborted", T0)
        with pytest.raises(NotFound):
            await store.update_recording(Recording(7, "f1", "d1", "p", 0.0, 0, "", 0, T0, None))
        assert await store.get_incident("nope") is None
        assert await store.get_flight("nope") is None


async def test_flights_retarget_end_and_list_newest_first(store_backend: StoreBackend) -> None:
    async with store_backend.make() as store:
        await store.insert_incident(_incident())
        await store.insert_incident(_incident("C2"))
        for n in range(3):
            await store.insert_flight(
                build.flight(f"f{n}", "inc-C1", T0 + timedelta(minutes=n), drone_id=f"d{n % 2}"),
                "go",
            )
        moved = await store.retarget_flight("f1", "inc-C2", {"k": [1, 2]}, T0 + timedelta(hours=1))
        assert (moved.incident_id, moved.route) == ("inc-C2", {"k": [1, 2]})
        assert moved.updated_at == T0 + timedelta(hours=1)
        ended = await store.end_flight("f2", "aborted", T0 + timedelta(hours=2))
        assert (ended.outcome, ended.ended_at) == ("aborted", T0 + timedelta(hours=2))
        assert [f.id for f in await store.list_flights()] == ["f2", "f1", "f0"]
        assert [f.id for f in await store.list_flights(active_only=True)] == ["f1", "f0"]
        assert [f.id for f in await store.list_flights(drone_id="d0", limit=1)] == ["f2"]


async def test_incidents_list_by_status_and_update(store_backend: StoreBackend) -> None:
    async with store_backend.make() as store:
        for n in range(3):
            at = T0 + timedelta(seconds=n)
            await store.insert_incident(build.incident(f"C{n}", at))
        changed = build.incident(
            "C1", T0 + timedelta(seconds=1), status=IncidentStatus.QUEUED, priority=3, raw={"x": 1}
        )
        await store.update_incident(changed)
        assert await store.get_incident_by_cad_id("C1") == changed
        assert [i.id for i in await store.list_incidents()] == ["inc-C2", "inc-C1", "inc-C0"]
        assert [i.id for i in await store.list_incidents(limit=2)] == ["inc-C2", "inc-C1"]
        assert [i.id for i in await store.list_incidents(status=IncidentStatus.NEW)] == [
            "inc-C0",
            "inc-C2",
        ]


async def test_the_window_queries_read_flights_phases_and_battery(
    store_backend: StoreBackend,
) -> None:
    async with store_backend.make() as store:
        old = build.incident("C0", T0 - timedelta(days=1), id="inc-0", status=IncidentStatus.CLOSED)
        new = build.incident("C1", T0, id="inc-1", status=IncidentStatus.CLOSED)
        for record in (old, new):
            await store.insert_incident(record)
        # f1 serves the new call; f0 the old one the day before; f2 (no call) after the window
        for flight_id, incident_id, created in (
            ("f0", "inc-0", T0 - timedelta(days=1)),
            ("f1", "inc-1", T0 - timedelta(seconds=1)),  # made just before the call's time
            ("f2", None, T0 + timedelta(hours=2)),
        ):
            await store.insert_flight(build.flight(flight_id, incident_id, created), "go")
        window = (T0, T0 + timedelta(hours=1))
        assert [f.id for f in await store.list_flights_in_window(*window)] == ["f1"]
        assert [f.id for f in await store.list_flights_in_window(None, None)] == ["f0", "f1", "f2"]
        assert [i.id for i in await store.list_incidents_received(*window)] == ["inc-1"]
        assert [i.id for i in await store.list_incidents_received(None, T0)] == ["inc-0"]
        # SQLite compares by julianday(), to the millisecond; PostgreSQL to the microsecond
        assert await store.list_incidents_received(T0 + timedelta(milliseconds=1), None) == []
        await store.set_flight_phase("f1", FlightPhase.LAUNCHING, "up", T0 + timedelta(seconds=5))
        assert [p.phase for p in await store.list_phases_of(["f1", "f2"])] == [
            FlightPhase.PREFLIGHT,
            FlightPhase.PREFLIGHT,
            FlightPhase.LAUNCHING,
        ]
        await store.add_track_points(
            [
                _point("f1", T0 + timedelta(seconds=s), pct)
                for s, pct in ((20, 93.5), (10, 97.0), (30, 90.0))
            ]
        )
        assert [p.t for p in await store.list_track("f1")] == [
            T0 + timedelta(seconds=s) for s in (10, 20, 30)
        ]
        assert await store.battery_spans(["f1", "f2"]) == {"f1": (97.0, 90.0)}
        assert await store.battery_spans([]) == {}
        await store.add_decision(
            "inc-1",
            outcome="auto_launch",
            chosen_drone_id="d1",
            ranking=[{"drone_id": "d1", "eta_s": 61.5}],
            rejections=[],
            elapsed_ms=1.0,
            decided_at=T0,
        )
        (decision,) = await store.list_decisions_of(["inc-0", "inc-1"])
        assert decision.incident_id == "inc-1" and decision.ranking[0]["eta_s"] == 61.5
        assert await store.list_decisions("inc-1") == [decision]


async def test_a_unit_reported_again_replaces_its_row(store_backend: StoreBackend) -> None:
    async with store_backend.make() as store:
        await store.insert_incident(_incident())
        assert await store.list_units(["inc-C1"]) == []
        await store.put_units([UnitStatus("inc-C1", "4B", T0, None, T0)])
        arrived = UnitStatus("inc-C1", "4B", T0, T0 + timedelta(minutes=5), T0)
        other = UnitStatus("inc-C1", "2A", None, None, T0)
        await store.put_units([arrived, other])
        assert await store.list_units(["inc-C1", "inc-none"]) == [other, arrived]


async def test_a_dock_is_held_once_whoever_holds_it(store_backend: StoreBackend) -> None:
    hold = DockHold("hq", "lightning within 10 km", "sam", T0)
    async with store_backend.make() as one, store_backend.make() as other:
        tries = [
            store.insert_dock_hold(DockHold("hq", f"reason {n}", f"person {n}", T0))
            for n in range(4)
            for store in (one, other)
        ]
        assert sorted(await asyncio.gather(*tries)) == [False] * 7 + [True]
        assert await one.delete_dock_hold("hq")
        assert await one.insert_dock_hold(hold)
        assert not await other.insert_dock_hold(DockHold("hq", "else", "kim", T0))
    async with store_backend.make() as store:  # it outlives a restart
        assert await store.list_dock_holds() == [hold]
        assert await store.delete_dock_hold("hq")
        assert not await store.delete_dock_hold("hq")
        assert await store.list_dock_holds() == []


async def test_commands_alerts_and_recordings_in_order(store_backend: StoreBackend) -> None:
    async with store_backend.make() as store:
        await store.insert_incident(_incident())
        await store.insert_flight(_flight(), "go")
        first = await store.add_command(
            flight_id="f1", drone_id="fw1", type="orbit", params={}, issued_by="p", issued_at=T0
        )
        second = await store.add_command(
            flight_id=None, drone_id="fw1", type="rtl", params={"a": 1}, issued_by="p", issued_at=T0
        )
        assert second.id > first.id > 0
        await store.finish_command(first.id, CommandState.ACCEPTED, "ok", T0 + timedelta(seconds=1))
        (done,) = await store.list_commands(state=CommandState.ACCEPTED)
        assert (done.id, done.result, done.finished_at) == (
            first.id,
            "ok",
            T0 + timedelta(seconds=1),
        )
        assert [c.id for c in await store.list_commands(flight_id="f1")] == [first.id]
        assert [c.id for c in await store.list_commands()] == [first.id, second.id]

        for n in range(3):
            await store.add_alert(
                drone_id="fw1",
                flight_id="f1" if n else None,
                kind="link",
                severity="info",
                message=f"m{n}",
                action="",
                at=T0,
            )
        assert [a.message for a in await store.list_alerts()] == ["m2", "m1", "m0"]
        assert [a.message for a in await store.list_alerts(flight_id="f1", limit=1)] == ["m1"]

        added = await store.add_recording(
            Recording(0, "f1", "fw1", "/r/f1-1.mp4", 0.0, 0, "", 0, T0, None)
        )
        assert added.id > 0 and await store.list_open_recordings() == [added]
        closed = Recording(
            added.id, "f1", "fw1", "/r/f1-1.mp4", 12.5, 4096, "ab", 375, T0, T0, note="x"
        )
        await store.update_recording(closed)
        assert await store.list_open_recordings() == []
        assert await store.list_recordings("f1") == [closed]
