"""Resume decides from what was written, and a terminal phase is written whole.

Seen on main: landing set the phase ``docked`` and only then, in a second write, the
flight's end; a crash between the two left ``docked`` without ``ended_at``, which resume
read as "never started": it marked the flight aborted and dispatched the incident again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from dfr.records import Flight, FlightEnd, FlightPhase, Incident, IncidentStatus
from dfr.store import SqliteStore
from tests import records_builders as build
from tests.e2e.harness import port_offset, running_dfr, wait_for
from tests.e2e.scenes import SCENE, wall_site

T0 = datetime.now(UTC) - timedelta(minutes=10)
SORTIE = [
    FlightPhase.PREFLIGHT,
    FlightPhase.LAUNCHING,
    FlightPhase.ENROUTE,
    FlightPhase.ON_SCENE,
    FlightPhase.RETURNING,
    FlightPhase.LANDING,
    FlightPhase.DOCKED,
]


def _incident(cad_id: str) -> Incident:
    return build.incident(
        cad_id, T0, lat_deg=SCENE[0], lon_deg=SCENE[1], status=IncidentStatus.DISPATCHED
    )


def _flight(flight_id: str, cad_id: str) -> Flight:
    return build.flight(
        flight_id, f"inc-{cad_id}", T0, drone_id="far", dock_id="b", phase=FlightPhase.DOCKED
    )


async def test_a_terminal_phase_writes_the_end_and_the_incident_with_it(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "dfr.db") as store:
        await store.insert_incident(_incident("T1"))
        await store.insert_flight(_flight("f1", "T1"), "dispatched")
        at = T0
        for phase in SORTIE[:-1]:
            at += timedelta(seconds=10)
            await store.set_flight_phase("f1", phase, "test", at)
        ended = await store.set_flight_phase(
            "f1",
            FlightPhase.DOCKED,
            "landed",
            at,
            end=FlightEnd("docked", IncidentStatus.CLOSED),
        )
        assert (ended.ended_at, ended.outcome) == (at, "docked")
        incident = await store.get_incident("inc-T1")
        assert incident is not None and incident.status is IncidentStatus.CLOSED


async def _written_before_the_crash(data: Path) -> None:
    """A flight that landed (phase docked written, end not) and one that never started."""
    await asyncio.to_thread(data.mkdir, parents=True)
    async with SqliteStore(data / "dfr.db") as store:
        await store.insert_incident(_incident("LANDED"))
        await store.insert_flight(_flight("flt-landed", "LANDED"), "dispatched")
        at = T0
        for phase in SORTIE:
            at += timedelta(seconds=10)
            await store.set_flight_phase("flt-landed", phase, "before the crash", at)
        await store.insert_incident(_incident("NEVER"))
        await store.insert_flight(_flight("flt-never", "NEVER"), "dispatched")


async def test_resume_reads_a_landed_flight_as_landed_and_dispatches_nothing(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    await _written_before_the_crash(data)
    site = wall_site(tmp_path / "site", drones=[{"id": "far", "dock": "b"}])
    async with running_dfr(site, data, offset=port_offset(), speed=10.0) as dfr:
        client = dfr.client

        async def up() -> bool:
            drones = (await client.get("/api/v1/drones")).json()
            return all(d["link"] == "up" for d in drones)

        await wait_for(up, 60, "drone link up")
        landed = await _get(client, "/api/v1/flights/flt-landed")
        assert (landed["phase"], landed["outcome"]) == ("docked", "docked")
        assert landed["ended_at"] is not None
        assert (await _get(client, "/api/v1/incidents/inc-LANDED"))["status"] == "closed"

        never = await _get(client, "/api/v1/flights/flt-never")
        assert (never["phase"], never["outcome"]) == ("aborted", "launch_failed")
        # nothing was sent for it: it waits for a person, it is not dispatched by itself
        assert (await _get(client, "/api/v1/incidents/inc-NEVER"))["status"] == "awaiting_pilot"
        flights = await _get(client, "/api/v1/flights")
        assert sorted(f["id"] for f in flights) == ["flt-landed", "flt-never"]
        drone = await _get(client, "/api/v1/drones/far")
        assert drone["flight_id"] is None


async def _get(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return response.json()
