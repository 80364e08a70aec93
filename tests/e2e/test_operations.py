"""Policy, queueing, airspace checks and faults, each through the running service and
the simulated fleet over real UDP and the real MAVSDK."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from dfr.records import CommandState
from tests.e2e.harness import VIEWER, Running, port_offset, running_dfr, wait_for
from tests.e2e.scenes import INSIDE_WALL, SCENE, call, offset_ll, wall_site

SPEED = 20.0


async def _ready(client: httpx.AsyncClient) -> bool:
    drones = (await client.get("/api/v1/drones")).json()
    return all(d["link"] == "up" and d["armable"] and d["health_ok"] for d in drones)


async def _flight(client: httpx.AsyncClient, flight_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/flights/{flight_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _wait_phase(
    client: httpx.AsyncClient, flight_id: str, phase: str, timeout_s: float = 120
) -> None:
    async def reached() -> bool:
        return (await _flight(client, flight_id))["phase"] == phase

    await wait_for(reached, timeout_s, f"flight {flight_id} in phase {phase}")


async def _wait_ended(
    client: httpx.AsyncClient, flight_id: str, timeout_s: float = 180
) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | None:
        body = await _flight(client, flight_id)
        return body if body["ended_at"] else None

    result: dict[str, Any] = await wait_for(ended, timeout_s, f"flight {flight_id} ended")
    return result


FAR = {"id": "far", "dock": "b"}  # the one drone of most tests, docked beyond the wall


async def _when_ready(dfr: Running) -> httpx.AsyncClient:
    """The running service's client, once every drone is linked, armable and healthy."""
    client = dfr.client
    await wait_for(lambda: _ready(client), 60, "drones ready")
    return client


async def _command(
    client: httpx.AsyncClient, flight_id: str, command: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/api/v1/flights/{flight_id}/commands", json=command)


async def _the_flight_on_scene(client: httpx.AsyncClient) -> dict[str, Any]:
    """The service's only flight, once it is over the scene."""
    (flight,) = (await client.get("/api/v1/flights")).json()
    await _wait_phase(client, flight["id"], "on_scene")
    return dict(flight)


async def _send_home(client: httpx.AsyncClient, flight_id: str) -> dict[str, Any]:
    """Command the flight to return, and its record once it has ended."""
    (await _command(client, flight_id, {"type": "return"})).raise_for_status()
    return await _wait_ended(client, flight_id)


async def test_pilot_confirm_policy_and_roles(tmp_path: Path) -> None:
    offset = port_offset()
    async with running_dfr(
        wall_site(tmp_path / "site"), tmp_path / "data", offset=offset, speed=SPEED
    ) as dfr:
        client = await _when_ready(dfr)
        made = (await client.post("/api/v1/calls", json=call("P3", priority=3))).json()
        assert made["status"] == "awaiting_pilot"
        incident = (await client.get(f"/api/v1/incidents/{made['id']}")).json()
        assert incident["decision"]["outcome"] == "awaiting_pilot"
        assert incident["decision"]["chosen_drone_id"] == "far"  # proposed, not launched
        assert (await client.get("/api/v1/flights")).json() == []

        viewer = {"Authorization": f"Bearer {VIEWER}"}
        refused = await client.post(f"/api/v1/incidents/{made['id']}/launch", headers=viewer)
        assert refused.status_code == 403
        assert (await client.get("/api/v1/flights")).json() == []

        unknown = await client.post(
            f"/api/v1/incidents/{made['id']}/launch", json={"drone_id": "nope"}
        )
        assert unknown.status_code == 404

        # two pilots click Launch at once (one picks the other drone on purpose): one flight
        first, second = await asyncio.gather(
            client.post(f"/api/v1/incidents/{made['id']}/launch", json={"drone_id": "near"}),
            client.post(f"/api/v1/incidents/{made['id']}/launch", json={"drone_id": "far"}),
        )
        assert sorted([first.status_code, second.status_code]) == [201, 409], (
            first.text,
            second.text,
        )
        launched = first if first.status_code == 201 else second
        assert len((await client.get("/api/v1/flights")).json()) == 1
        flight = launched.json()
        assert flight["drone_id"] in ("near", "far")
        again = await client.post(f"/api/v1/incidents/{made['id']}/launch")
        assert again.status_code == 409  # already dispatched
        await _wait_phase(client, flight["id"], "enroute")

        # the CAD moves the call while it is flown: recorded and shown, never applied by itself
        moved_to = offset_ll(200, 200)
        update = await client.post("/api/v1/calls", json=call("P3", priority=3, where=moved_to))
        assert update.status_code == 200 and update.json()["changed"] == ["location"]
        assert update.json()["location"]["lat"] == SCENE[0]  # still the flown location
        cancelled = await client.post(
            "/api/v1/calls", json={**call("P3", priority=3, where=moved_to), "cancelled": True}
        )
        assert cancelled.json()["status"] == "cancelled"

        record = await _send_home(client, flight["id"])
        assert record["phases"][-1]["phase"] == "docked"
        kinds = [a["kind"] for a in record["alerts"]]
        assert "location_update" in kinds and "call_cancelled" in kinds
        assert (await client.get(f"/api/v1/incidents/{made['id']}")).json()["status"] == "cancelled"


async def test_queue_served_when_a_drone_is_free_and_zone_commands_refused(tmp_path: Path) -> None:
    offset = port_offset()
    site = wall_site(tmp_path / "site", drones=[FAR])
    async with running_dfr(site, tmp_path / "data", offset=offset, speed=SPEED) as dfr:
        client = await _when_ready(dfr)
        first = (await client.post("/api/v1/calls", json=call("Q1"))).json()
        assert first["status"] == "dispatched"
        second = (
            await client.post("/api/v1/calls", json=call("Q2", where=offset_ll(500, 500)))
        ).json()
        assert second["status"] == "queued"
        queued = (await client.get(f"/api/v1/incidents/{second['id']}")).json()
        assert "already on a flight" in queued["decision"]["rejections"][0]["reason"]

        flight = await _the_flight_on_scene(client)

        # into the no-fly wall: refused before anything is sent, nothing recorded
        into_zone = await _command(
            client,
            flight["id"],
            {"type": "goto", "lat": INSIDE_WALL[0], "lon": INSIDE_WALL[1]},
        )
        assert into_zone.status_code == 422
        assert "test wall" in into_zone.json()["detail"]
        orbit_through = await _command(
            client,
            flight["id"],
            {
                "type": "orbit",
                "lat": INSIDE_WALL[0],
                "lon": INSIDE_WALL[1] + 0.01,
                "radius_m": 300,
            },
        )
        assert orbit_through.status_code in (200, 422)
        bad = await _command(client, flight["id"], {"type": "barrel_roll"})
        assert bad.status_code == 422
        record = await _flight(client, flight["id"])
        assert all(c["type"] != "goto" for c in record["commands"])

        # a legal goto is flown and answered by the vehicle
        legal = offset_ll(300, 300)
        moved = await _command(
            client,
            flight["id"],
            {"type": "goto", "lat": legal[0], "lon": legal[1]},
        )
        assert moved.status_code == 200 and moved.json()["state"] == "accepted", moved.text
        await _send_home(client, flight["id"])

        # the drone is home: the queued call is served by itself
        async def dispatched() -> bool:
            body = (await client.get(f"/api/v1/incidents/{second['id']}")).json()
            return body["status"] == "dispatched"

        await wait_for(dispatched, 60, "queued call dispatched")
        flights = (await client.get("/api/v1/flights")).json()
        assert {f["incident_id"] for f in flights} == {first["id"], second["id"]}


async def test_low_battery_forces_return(tmp_path: Path) -> None:
    offset = port_offset()
    small = {
        "battery_wh": 60.0,
        "hover_power_w": 300.0,
        "cruise_power_w": 330.0,
        "climb_power_w": 450.0,
    }
    site = wall_site(tmp_path / "site", drones=[{"id": "far", "dock": "b", "performance": small}])
    # the simulator flies its airframe, not the site: give the vehicle the same small pack
    pack = {"SIM_BAT_CAP_WH": small["battery_wh"]}
    async with running_dfr(
        site, tmp_path / "data", offset=offset, speed=SPEED, fleet_params=pack
    ) as dfr:
        client = await _when_ready(dfr)
        made = (await client.post("/api/v1/calls", json=call("B1"))).json()
        assert made["status"] == "dispatched", made
        flight = await _the_flight_on_scene(client)
        # nobody sends it home: the monitor must, while it still can get there
        record = await _wait_ended(client, flight["id"], timeout_s=240)
        phases = [p["phase"] for p in record["phases"]]
        assert phases[-3:] == ["returning", "landing", "docked"]
        returning = next(p for p in record["phases"] if p["phase"] == "returning")
        assert "battery" in returning["reason"]
        assert any(a["kind"] == "battery_reserve" for a in record["alerts"])
        assert dfr.fleet.vehicles[0].snapshot().battery_remaining_pct > 5.0  # home with some left


async def test_link_loss_mid_flight_and_recovery(tmp_path: Path) -> None:
    offset = port_offset()
    site = wall_site(tmp_path / "site", drones=[FAR])
    async with running_dfr(site, tmp_path / "data", offset=offset, speed=SPEED) as dfr:
        client = await _when_ready(dfr)
        (await client.post("/api/v1/calls", json=call("L1"))).raise_for_status()
        flight = await _the_flight_on_scene(client)

        vehicle = dfr.fleet.vehicles[0]
        vehicle.set_link_blocked(True)

        async def link_is(state: str) -> bool:
            return (await client.get("/api/v1/drones/far")).json()["link"] == state

        await wait_for(lambda: link_is("lost"), 30, "link lost seen by the service")
        refused = await _command(client, flight["id"], {"type": "hold"})
        assert refused.status_code == 503  # cannot send over a dead link, and says so
        vehicle.set_link_blocked(False)
        await wait_for(lambda: link_is("up"), 30, "link back")

        record = await _flight(client, flight["id"])
        kinds = [a["kind"] for a in record["alerts"]]
        assert kinds.count("link_lost") == 1 and kinds.count("link_back") == 1
        record = await _send_home(client, flight["id"])
        assert record["outcome"] == "docked"


async def test_service_restart_mid_flight_resumes(tmp_path: Path) -> None:
    offset = port_offset()
    site = wall_site(tmp_path / "site", drones=[FAR])
    data = tmp_path / "data"
    from dfr.sim_fleet import specs_for_site
    from dfr.site import load_site
    from sitl.fleet import Fleet, PortPlan

    fleet = Fleet(
        specs_for_site(load_site(site), airframe="dfr_quad"),
        ports=PortPlan().shifted(offset),
        speed_factor=10.0,
    )
    async with fleet:
        async with running_dfr(site, data, offset=offset, speed=10.0, fleet=fleet) as first:
            client = await _when_ready(first)
            (await client.post("/api/v1/calls", json=call("R1"))).raise_for_status()
            (flight,) = (await client.get("/api/v1/flights")).json()
            await _wait_phase(client, flight["id"], "enroute")
            # a command whose answer never came back before the service died
            await first.service.store.add_command(
                flight_id=flight["id"],
                drone_id="far",
                type="hold",
                params={},
                issued_by="pilot",
                issued_at=first.service.started_at,
            )
        assert fleet.vehicles[0].snapshot().armed  # the drone flew on while the service was down

        async with running_dfr(site, data, offset=offset, speed=10.0, fleet=fleet) as second:
            client = second.client
            record = await _flight(client, flight["id"])
            assert record["ended_at"] is None
            (unknown,) = [c for c in record["commands"] if c["type"] == "hold"]
            assert unknown["state"] == CommandState.UNKNOWN.value  # marked, never re-sent
            await _wait_phase(client, flight["id"], "on_scene", timeout_s=180)
            assert (
                fleet.vehicles[0].snapshot().nav_state.value != "hold"
            )  # the hold was not re-sent
            record = await _send_home(client, flight["id"])
            phases = [p["phase"] for p in record["phases"]]
            assert phases[-4:] == ["on_scene", "returning", "landing", "docked"]
            incident = (await client.get(f"/api/v1/incidents/{record['incident_id']}")).json()
            assert incident["status"] == "closed"


async def test_more_urgent_call_takes_a_flying_drone_only_by_pilot_action(tmp_path: Path) -> None:
    offset = port_offset()
    site = wall_site(tmp_path / "site", drones=[FAR])
    async with running_dfr(site, tmp_path / "data", offset=offset, speed=SPEED) as dfr:
        client = await _when_ready(dfr)
        minor = (await client.post("/api/v1/calls", json=call("D-minor", priority=3))).json()
        flight = (await client.post(f"/api/v1/incidents/{minor['id']}/launch")).json()
        await _wait_phase(client, flight["id"], "enroute")

        urgent_at = offset_ll(800, 600)
        urgent = (
            await client.post("/api/v1/calls", json=call("D-urgent", priority=1, where=urgent_at))
        ).json()
        assert urgent["status"] == "queued"  # never taken automatically
        # less urgent cannot take it, even by a pilot
        other = (
            await client.post(
                "/api/v1/calls", json=call("D-other", priority=4, where=offset_ll(-500, 0))
            )
        ).json()
        refused = await client.post(
            f"/api/v1/incidents/{other['id']}/launch", json={"drone_id": "far", "divert": True}
        )
        assert refused.status_code == 409

        taken = await client.post(
            f"/api/v1/incidents/{urgent['id']}/launch", json={"drone_id": "far", "divert": True}
        )
        assert taken.status_code == 201, taken.text
        assert taken.json()["id"] == flight["id"] and taken.json()["incident_id"] == urgent["id"]
        assert (await client.get(f"/api/v1/incidents/{minor['id']}")).json()["status"] == "queued"

        await _wait_phase(client, flight["id"], "on_scene")
        position = (await client.get("/api/v1/drones/far")).json()
        from dfr.geo.frame import geodesic_distance_m

        assert geodesic_distance_m(position["lat"], position["lon"], *urgent_at) < 150
        await _send_home(client, flight["id"])

        async def served() -> bool:
            body = (await client.get(f"/api/v1/incidents/{minor['id']}")).json()
            return body["status"] in ("dispatched", "awaiting_pilot")

        await wait_for(served, 60, "the left-behind call looked at again")


async def test_no_false_failsafe_when_modes_show_with_the_next_heartbeat(tmp_path: Path) -> None:
    """Real PX4 reports a new mode only in its next 1 Hz HEARTBEAT, after the command's
    ACK; the flight must not take that gap for a mode change nobody asked for."""
    offset = port_offset()
    site = wall_site(tmp_path / "site", drones=[FAR])
    async with running_dfr(
        site, tmp_path / "data", offset=offset, speed=10.0, fleet_params={"SIM_STATE_ANNOUNCE": 0}
    ) as dfr:
        client = await _when_ready(dfr)
        (await client.post("/api/v1/calls", json=call("HB1"))).raise_for_status()
        flight = await _the_flight_on_scene(client)

        async def orbiting() -> bool:
            return (await client.get("/api/v1/drones/far")).json()["mode"] == "posctl"

        await wait_for(orbiting, 20, "orbit reported")
        ret = await _command(client, flight["id"], {"type": "return"})
        assert ret.json()["state"] == "accepted"
        record = await _wait_ended(client, flight["id"])
        phases = [p["phase"] for p in record["phases"]]
        assert "failsafe" not in phases
        assert phases[-4:] == ["on_scene", "returning", "landing", "docked"]
        assert not [a for a in record["alerts"] if a["kind"] == "mode_change"]


async def test_a_call_inside_a_zone_is_watched_from_a_ring_that_stays_out(tmp_path: Path) -> None:
    """The route ends at the zone's edge; the orbit must not cut back into the fence the
    vehicle carries (seen on the ten-call benchmark: PX4's geofence failsafe mid-orbit)."""
    site = wall_site(tmp_path / "site", drones=[FAR])
    async with running_dfr(site, tmp_path / "data", offset=port_offset(), speed=SPEED) as dfr:
        client = await _when_ready(dfr)
        made = await client.post("/api/v1/calls", json=call("IN-ZONE", where=INSIDE_WALL))
        assert made.status_code == 201, made.text
        flight_id = made.json()["flight_id"]
        await _wait_phase(client, flight_id, "on_scene", 240)
        vehicle = dfr.fleet.vehicles[0]
        orbit_from_s = vehicle.time_s
        # one whole ring (2π·60 m at 5 m/s ≈ 75 s) and more, on the vehicle's clock
        await wait_for(
            lambda: _vehicle_time_past(vehicle, orbit_from_s + 100.0), 30, "a full orbit"
        )
        body = await _flight(client, flight_id)
        assert body["phase"] == "on_scene", [p["phase"] for p in body["phases"]]
        assert not [a for a in body["alerts"] if "eofence" in a["message"]], body["alerts"]
        plan = body["route"]["properties"]["dfr_plan"]
        assert plan["orbit_radius_m"] > 0 and plan["orbit_note"], plan
        drone = (await client.get("/api/v1/drones/far")).json()
        assert drone["mode"] == "posctl"  # PX4's Orbit, as MAVSDK shows it


async def _vehicle_time_past(vehicle: Any, time_s: float) -> bool:
    return bool(vehicle.time_s >= time_s)
