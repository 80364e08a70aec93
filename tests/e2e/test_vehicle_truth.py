"""The flight believes only what the vehicle shows.

Seen on real PX4: after a refused mission start, PX4's land detector said "Takeoff
detected" on the pad, the service took the flight for airborne, PX4 said "Landing
detected" and "Disarmed by landing" a second later, and the flight stayed ``enroute``
for 15 minutes with the drone on its dock and the call believed served. Here the
vehicle comes down while en route (a disarm nobody asked for): the flight must say so at
once, end, and put the call back in the queue; and a flight is ``enroute`` only once the
vehicle is really climbing away in a launch mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dfr.fleet.drone_state import DroneState, LandedState, LinkState, airborne
from tests.e2e.harness import port_offset, running_dfr, wait_for
from tests.e2e.scenes import call, wall_site


async def _ready(client: Any) -> bool:
    drones = (await client.get("/api/v1/drones")).json()
    # free as the service sees it too: a flight's end is written before its drone is freed
    return all(
        d["link"] == "up" and d["armable"] and d["health_ok"] and d["flight_id"] is None
        for d in drones
    )


def test_a_takeoff_on_the_pad_is_not_airborne() -> None:
    base = DroneState(
        "d", LinkState.UP, armed=True, landed=LandedState.IN_AIR, mode="mission", alt_rel_m=0.2
    )
    assert not airborne(base)  # PX4's land detector flickered: still on the pad
    assert airborne(DroneState(**{**_fields(base), "alt_rel_m": 8.0}))
    assert not airborne(DroneState(**{**_fields(base), "alt_rel_m": 8.0, "armed": False}))
    assert not airborne(DroneState(**{**_fields(base), "alt_rel_m": 8.0, "mode": "hold"}))


def _fields(state: DroneState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in state.__slots__}


async def test_vehicle_down_while_enroute_is_an_alert_and_the_call_waits_for_a_pilot(
    tmp_path: Path,
) -> None:
    site = wall_site(tmp_path / "site", drones=[{"id": "far", "dock": "b"}])
    async with running_dfr(site, tmp_path / "data", offset=port_offset(), speed=10.0) as dfr:
        client = dfr.client
        await wait_for(lambda: _ready(client), 60, "drone up and armable")
        made = await client.post("/api/v1/calls", json=call("TRUTH-1"))
        assert made.status_code == 201, made.text
        incident_id = made.json()["id"]
        (flight,) = (await client.get("/api/v1/flights")).json()
        flight_id = flight["id"]

        async def phase() -> str:
            return str((await client.get(f"/api/v1/flights/{flight_id}")).json()["phase"])

        await wait_for(lambda: _is(phase, "enroute"), 60, "en route")
        vehicle = dfr.fleet.vehicles[0]
        assert vehicle.alt_rel_m() > 3.0
        # the vehicle disarms by itself mid-air (as a wrongly detected landing would)
        vehicle.commander.disarm(forced=True, why="Disarmed by landing")

        async def ended() -> dict[str, Any] | None:
            record = (await client.get(f"/api/v1/flights/{flight_id}")).json()
            return record if record["ended_at"] else None

        record = await wait_for(ended, 60, "the flight to end")
        phases = [p["phase"] for p in record["phases"]]
        assert "on_scene" not in phases
        assert phases[-1] == "docked"
        assert record["outcome"] == "landed_short"
        kinds = [a["kind"] for a in record["alerts"]]
        assert "landed_short" in kinds, kinds
        # never dispatched twice by itself: it waits for a person, who can launch again
        incident = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
        assert incident["status"] == "awaiting_pilot"
        assert len((await client.get("/api/v1/flights")).json()) == 1
        await wait_for(lambda: _ready(client), 60, "drone armable again")
        again = await client.post(f"/api/v1/incidents/{incident_id}/launch", json={})
        assert again.status_code in (200, 201), again.text
        flights = (await client.get("/api/v1/flights")).json()
        assert len(flights) == 2 and {f["incident_id"] for f in flights} == {incident_id}


async def _is(read: Any, value: str) -> bool:
    return bool(await read() == value)
