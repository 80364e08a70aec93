"""The whole path on the PostgreSQL store: the service with DFR_DATABASE_URL takes a CAD
call and launches a drone; the incident, the decision and the flight are rows in
PostgreSQL (read with psycopg, not through dfr) and none is in the data directory's
SQLite file; the service stops mid-flight and a new one on the same database finds the
flight, resumes it and writes its arrival on scene there."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import psycopg

from dfr.sim_fleet import specs_for_site
from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan
from tests.e2e.harness import (
    Running,
    flight_record,
    port_offset,
    running_dfr,
    wait_for,
    wait_for_phase,
)
from tests.e2e.scenes import SCENE, wall_site

SPEED = 20.0


async def _ready(dfr: Running) -> httpx.AsyncClient:
    async def up() -> bool:
        drones = (await dfr.client.get("/api/v1/drones")).json()
        return all(d["link"] == "up" and d["armable"] and d["health_ok"] for d in drones)

    await wait_for(up, 60, "the drone linked and armable")
    return dfr.client


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


async def test_a_call_flown_on_postgresql_outlives_a_restart(
    tmp_path: Path, postgres_url: str
) -> None:
    offset = port_offset()
    site = wall_site(tmp_path / "site", drones=[{"id": "far", "dock": "b"}])
    data = tmp_path / "data"
    fleet = Fleet(
        specs_for_site(load_site(site), airframe="dfr_quad"),
        ports=PortPlan().shifted(offset),
        speed_factor=SPEED,
    )

    def serve() -> AbstractAsyncContextManager[Running]:
        return running_dfr(
            site, data, offset=offset, speed=SPEED, fleet=fleet, database_url=postgres_url
        )

    async with fleet:
        async with serve() as first:
            client = await _ready(first)
            made = await client.post(
                "/api/v1/calls",
                json={
                    "cad_id": "PG-1",
                    "nature": "shots fired",
                    "priority": 1,
                    "location": {"lat": SCENE[0], "lon": SCENE[1]},
                },
            )
            assert made.status_code == 201, made.text
            incident_id = made.json()["id"]
            (flight,) = (await client.get("/api/v1/flights")).json()
            await wait_for_phase(client, flight["id"], "enroute")

        # in PostgreSQL, as rows any client reads; nothing in a SQLite file
        assert _rows(postgres_url, "SELECT id, cad_id, status FROM incidents") == [
            (incident_id, "PG-1", "dispatched")
        ]
        assert _rows(postgres_url, "SELECT outcome, chosen_drone_id FROM dispatch_decisions") == [
            ("auto_launch", "far")
        ]
        assert _rows(postgres_url, "SELECT id, incident_id, drone_id, ended_at FROM flights") == [
            (flight["id"], incident_id, "far", None)
        ]
        phases = _rows(postgres_url, "SELECT phase FROM flight_phases ORDER BY id")
        assert [p for (p,) in phases][-1] == "enroute"
        assert _rows(postgres_url, "SELECT count(*) FROM track_points")[0][0] > 0
        assert not (data / "dfr.db").exists()

        async with serve() as second:
            client = second.client
            incident = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
            assert (incident["cad_id"], incident["status"]) == ("PG-1", "dispatched")
            record = await flight_record(client, flight["id"])
            assert record["ended_at"] is None and record["incident_id"] == incident_id
            await wait_for_phase(client, flight["id"], "on_scene")  # resumed, and written

        phases = _rows(postgres_url, "SELECT phase FROM flight_phases ORDER BY id")
        assert [p for (p,) in phases][-1] == "on_scene"
        assert not (data / "dfr.db").exists()
