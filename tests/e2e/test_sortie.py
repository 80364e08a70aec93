"""The main path, whole: a CAD call → the ETA-best drone → auto-launch → on scene →
orbit → the pilot sends it home → landed at its dock → a complete flight record;
the track never enters a buffered no-fly zone; a websocket viewer saw it all.

The scene is built so that the nearest dock in a straight line (A, 1.5 km south) has a
no-fly wall in the way and must fly ~6 km round it, while dock B (2.5 km east) flies
straight: the ETA-best drone is B, not the nearest.
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import websockets
from shapely.geometry import Point, Polygon

from dfr.geo.frame import LocalFrame
from tests.e2e.harness import FULL_SORTIE, VIEWER, port_offset, running_dfr, wait_for
from tests.e2e.scenes import DOCK_B, SCENE, WALL, WALL_BUFFER_M, wall_site

ETA_TOLERANCE = 1.25  # on scene within 125 % of the planned ETA …
ETA_SLACK_S = 30.0  # … plus 30 s (vehicle time) for arming and the simulator's takeoff


def _site(tmp_path: Path) -> Path:
    return wall_site(tmp_path / "site")


async def _all_ready(client: Any) -> bool:
    drones = (await client.get("/api/v1/drones")).json()
    return all(d["link"] == "up" and d["armable"] and d["health_ok"] for d in drones)


async def test_call_to_dock_whole_path(tmp_path: Path) -> None:
    offset = port_offset()
    async with running_dfr(_site(tmp_path), tmp_path / "data", offset=offset, speed=20.0) as dfr:
        client = dfr.client
        await wait_for(lambda: _all_ready(client), 60, "both drones up and armable")

        positions: list[dict[str, Any]] = []
        phases: list[tuple[str, float]] = []
        far_vehicle = dfr.fleet.vehicles[1]

        async def watch_telemetry() -> None:
            async with websockets.connect(f"{dfr.ws_url}/ws/telemetry?token={VIEWER}") as ws:
                async for raw in ws:
                    positions.append(json.loads(raw))

        batched: list[list[dict[str, Any]]] = []

        async def watch_batched() -> None:
            async with websockets.connect(
                f"{dfr.ws_url}/ws/telemetry?batch=1&drone_id=far&token={VIEWER}"
            ) as ws:
                async for raw in ws:
                    batched.append(json.loads(raw))

        async def watch_events() -> None:
            async with websockets.connect(f"{dfr.ws_url}/ws/events?token={VIEWER}") as ws:
                async for raw in ws:
                    event = json.loads(raw)
                    if event["type"] == "flight_phase":
                        phases.append((event["phase"], far_vehicle.time_s))

        async with asyncio.TaskGroup() as tg:
            tasks = [
                tg.create_task(watch_telemetry(), name="viewer: telemetry"),
                tg.create_task(watch_events(), name="viewer: events"),
                tg.create_task(watch_batched(), name="viewer: batched telemetry"),
            ]
            await asyncio.sleep(0.5)

            made = await client.post(
                "/api/v1/calls",
                json={
                    "cad_id": "E2E-1",
                    "nature": "shots fired",
                    "priority": 1,
                    "location": {"lat": SCENE[0], "lon": SCENE[1]},
                },
            )
            assert made.status_code == 201, made.text
            incident = (await client.get(f"/api/v1/incidents/{made.json()['id']}")).json()
            decision = incident["decision"]
            assert incident["status"] == "dispatched"
            assert decision["outcome"] == "auto_launch"
            assert decision["chosen_drone_id"] == "far"
            ranked = {c["drone_id"]: c for c in decision["ranking"]}
            assert ranked["near"]["eta_s"] > ranked["far"]["eta_s"]
            assert ranked["near"]["distance_m"] > 2 * 2500  # the detour round the wall

            flights = (await client.get("/api/v1/flights")).json()
            (flight,) = flights
            flight_id = flight["id"]
            assert flight["drone_id"] == "far"

            async def phase_is(name: str) -> bool:
                return (await client.get(f"/api/v1/flights/{flight_id}")).json()["phase"] == name

            await wait_for(lambda: phase_is("on_scene"), 120, "on scene")
            drone = (await client.get("/api/v1/drones/far")).json()
            await wait_for(
                lambda: _mode_is(client, "far", "posctl"),
                20,
                "orbiting (PX4 Orbit shows as POSCTL)",
            )
            assert drone["flight_id"] == flight_id

            back = await client.post(
                f"/api/v1/flights/{flight_id}/commands", json={"type": "return"}
            )
            assert back.status_code == 200, back.text
            assert back.json()["state"] == "accepted"

            await wait_for(lambda: _ended(client, flight_id), 180, "landed and docked")
            for task in tasks:
                task.cancel()

        record = (await client.get(f"/api/v1/flights/{flight_id}")).json()
        assert [p["phase"] for p in record["phases"]] == FULL_SORTIE
        assert record["outcome"] == "docked"
        # dfr's own commands and the pilot's, each with the vehicle's answer
        assert [(c["type"], c["state"], c["issued_by"]) for c in record["commands"]] == [
            ("launch", "accepted", "dfr"),
            ("orbit", "accepted", "dfr"),
            ("return", "accepted", "automation"),
        ]
        assert (await client.get(f"/api/v1/incidents/{incident['id']}")).json()[
            "status"
        ] == "closed"

        # on scene within the planned ETA plus the stated tolerance, in the vehicle's own time
        at = dict(phases)
        flown_s = at["on_scene"] - at["launching"]
        assert flown_s <= record["planned_eta_s"] * ETA_TOLERANCE + ETA_SLACK_S, (
            flown_s,
            record["planned_eta_s"],
        )

        # the track: many points, never inside the buffered wall (a few metres of slack)
        track = (await client.get(f"/api/v1/flights/{flight_id}/track")).json()
        coords = track["geometry"]["coordinates"]
        assert len(coords) >= 5
        frame = LocalFrame(SCENE[0], SCENE[1])
        wall_xy = Polygon([frame.to_xy(lat, lon) for lon, lat in WALL]).buffer(WALL_BUFFER_M - 5)
        assert not any(wall_xy.contains(Point(frame.to_xy(lat, lon))) for lon, lat, _alt in coords)
        # ended where it started: the dock
        last_lon, last_lat, _ = coords[-1]
        assert math.dist(frame.to_xy(last_lat, last_lon), frame.to_xy(*DOCK_B)) < 15.0

        # the viewer saw the drone fly, with its flight and phases
        seen = [p for p in positions if p["drone_id"] == "far" and p.get("flight_id") == flight_id]
        assert len(seen) > 20
        assert {"enroute", "on_scene", "returning"} <= {p["phase"] for p in seen}
        assert max(p["alt_rel_m"] or 0 for p in seen) > 50
        # a batched viewer gets arrays of positions, filtered to its drone
        assert batched and all(isinstance(frame, list) for frame in batched)
        flat = [p for frame in batched for p in frame]
        assert {p["drone_id"] for p in flat} == {"far"} and len(flat) > 20


async def _mode_is(client: Any, drone_id: str, mode: str) -> bool:
    return (await client.get(f"/api/v1/drones/{drone_id}")).json()["mode"] == mode


async def _ended(client: Any, flight_id: str) -> bool:
    return (await client.get(f"/api/v1/flights/{flight_id}")).json()["ended_at"] is not None
