"""A command the vehicle did not answer is resolved by reading the vehicle, not re-sent.

Seen on main: when a command timed out, the automatic actions (arrival orbit, return)
sent it again 5 s later without finding out whether the vehicle had already acted. Here
a relay between the service and the simulated vehicle loses every COMMAND_ACK for
DO_ORBIT: the vehicle orbits, the service hears no answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from dfr.sim_fleet import specs_for_site
from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan
from tests.e2e.harness import port_offset, running_dfr, wait_for
from tests.e2e.scenes import call, wall_site
from tests.fleet.relay import MavlinkRelay

MAV_CMD_DO_ORBIT = 34
SPEED = 10.0


def _orbit_ack(message: Any) -> bool:
    return bool(message.get_type() == "COMMAND_ACK" and message.command == MAV_CMD_DO_ORBIT)


async def test_an_unanswered_orbit_is_resolved_by_reading_the_vehicle_and_not_sent_again(
    tmp_path: Path,
) -> None:
    site_dir = wall_site(tmp_path / "site", drones=[{"id": "far", "dock": "b"}])
    vehicle_offset = port_offset()
    service_offset = vehicle_offset + 5  # the relay sits between the two
    ports = PortPlan().shifted(vehicle_offset)
    relay = MavlinkRelay(drop_from_vehicle=_orbit_ack)
    async with (
        Fleet(
            specs_for_site(load_site(site_dir), airframe="dfr_quad"),
            ports=ports,
            speed_factor=SPEED,
        ) as fleet,
        relay.running(ports.api_remote(0), PortPlan().shifted(service_offset).api_remote(0)),
        running_dfr(
            site_dir, tmp_path / "data", offset=service_offset, speed=SPEED, fleet=fleet
        ) as dfr,
    ):
        client = dfr.client

        async def ready() -> bool:
            drones = (await client.get("/api/v1/drones")).json()
            return all(d["link"] == "up" and d["armable"] and d["health_ok"] for d in drones)

        await wait_for(ready, 60, "drone up through the relay")
        made = await client.post("/api/v1/calls", json=call("NO-ACK"))
        assert made.status_code == 201, made.text
        flight_id = made.json()["flight_id"]
        assert flight_id, (made.json()["status"], made.json()["decision"])

        async def orbit_finished() -> dict[str, Any] | None:
            response = await client.get(f"/api/v1/flights/{flight_id}")
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            orbits = [c for c in body["commands"] if c["type"] == "orbit"]
            return body if orbits and orbits[0]["state"] != "pending" else None

        body = await wait_for(orbit_finished, 240, "the arrival orbit's outcome")
        (orbit,) = [c for c in body["commands"] if c["type"] == "orbit"]
        assert relay.dropped[f"COMMAND_ACK:{MAV_CMD_DO_ORBIT}"] >= 1  # it really went unanswered
        assert orbit["state"] == "accepted", orbit
        assert "resolved by reading the vehicle" in orbit["result"], orbit
        sent = relay.from_service[f"COMMAND_INT:{MAV_CMD_DO_ORBIT}"]

        # longer than the automatic retry (5 s): nothing is sent again, the flight orbits on
        await asyncio.sleep(8.0)
        body = (await client.get(f"/api/v1/flights/{flight_id}")).json()
        assert [c["type"] for c in body["commands"]].count("orbit") == 1, body["commands"]
        assert relay.from_service[f"COMMAND_INT:{MAV_CMD_DO_ORBIT}"] == sent
        assert body["phase"] == "on_scene", [p["phase"] for p in body["phases"]]
        drone = (await client.get("/api/v1/drones/far")).json()
        assert drone["mode"] == "posctl"
