"""The whole service over one vehicle: the simulator everywhere, real PX4 SITL where a
build is present (``backend`` fixture). The same test body for both.

A relay sits between the service and the vehicle's API link (PX4's ports cannot be
moved, so the service listens five ports up and the relay forwards): it cuts the link
for the link-loss test. Times compared with plans are read on the vehicle's clock (its
GCS link), as PX4 on a loaded machine runs slower than real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from dfr.sim_fleet import specs_for_site
from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan
from tests.e2e.harness import FULL_SORTIE, Running, port_offset, running_dfr, wait_for, write_site
from tests.fleet.relay import MavlinkRelay
from tests.px4.px4_sitl import Px4Home, build_dir, px4_fleet
from tests.px4.rig import HQ
from tests.px4.vehicle_clock import VehicleClocks, vehicle_clocks

SIM_SPEED = 5.0
SCENE = (HQ[0] + 900 / 110_900, HQ[1] + 300 / 93_400)  # ~950 m north-north-east of HQ
SERVICE_SHIFT = 5  # the service listens this many ports above the vehicle's API port


@dataclass
class Sortie:
    dfr: Running
    relay: MavlinkRelay
    clocks: VehicleClocks
    speed: float  # vehicle seconds per wall second (to bound waits)

    def wall_s(self, vehicle_s: float) -> float:
        return vehicle_s / self.speed


def _site(directory: Path) -> Path:
    return write_site(
        directory,
        docks=[{"id": "hq", "lat": HQ[0], "lon": HQ[1], "ground_alt_amsl_m": HQ[2]}],
        drones=[{"id": "fw1", "dock": "hq"}],
        airspace=[],
        policy={
            "auto_launch_max_priority": 1,
            "on_scene_time_s": 10,
            "orbit_radius_m": 40,
            "orbit_speed_mps": 5,
            "cruise_alt_agl_m": 40,
        },
    )


@contextlib.asynccontextmanager
async def sortie(
    backend: str, tmp_path: Path, params: dict[str, float | int] | None = None
) -> AsyncIterator[Sortie]:
    site_dir = _site(tmp_path / "site")
    relay = MavlinkRelay()
    async with contextlib.AsyncExitStack() as stack:
        if backend == "sim":
            offset, speed = port_offset(), SIM_SPEED
            specs = specs_for_site(load_site(site_dir), airframe="sihsim_quadx", params=params)
            fleet = Fleet(specs, ports=PortPlan().shifted(offset), speed_factor=speed)
        else:
            build = build_dir()
            assert build is not None
            offset, speed = 0, 1.0
            await stack.enter_async_context(
                px4_fleet(build, [Px4Home(*HQ)], tmp_path / "px4", params=params)
            )
            fleet = Fleet([])  # the vehicles are PX4's
        await stack.enter_async_context(fleet)
        ports = PortPlan().shifted(offset)
        clocks = await stack.enter_async_context(vehicle_clocks(ports.gcs_remote))
        await stack.enter_async_context(
            relay.running(ports.api_remote(0), ports.api_remote(0) + SERVICE_SHIFT)
        )
        dfr = await stack.enter_async_context(
            running_dfr(
                site_dir, tmp_path / "data", offset=offset + SERVICE_SHIFT, speed=speed, fleet=fleet
            )
        )

        async def ready() -> bool:
            drones = (await dfr.client.get("/api/v1/drones")).json()
            return clocks.heard(1) and all(
                d["link"] == "up" and d["armable"] and d["health_ok"] for d in drones
            )

        await wait_for(ready, 120, "the vehicle up, armable and heard on its GCS link")
        yield Sortie(dfr, relay, clocks, speed)


async def _flight(client: httpx.AsyncClient, flight_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/flights/{flight_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _call(client: httpx.AsyncClient, cad_id: str) -> str:
    """A priority-1 call at SCENE; the id of the flight it launched."""
    made = await client.post(
        "/api/v1/calls",
        json={
            "cad_id": cad_id,
            "nature": "test call",
            "priority": 1,
            "location": {"lat": SCENE[0], "lon": SCENE[1]},
        },
    )
    assert made.status_code == 201, made.text
    flight_id = made.json()["flight_id"]
    assert flight_id, made.json()
    return str(flight_id)


async def _ended(client: httpx.AsyncClient, flight_id: str) -> dict[str, Any]:
    """The flight once its end is written (the terminal phase comes first)."""
    body = await _flight(client, flight_id)
    while body["ended_at"] is None:
        await asyncio.sleep(0.2)
        body = await _flight(client, flight_id)
    return body


async def _phases_seen(
    run: Sortie, flight_id: str, until: set[str], timeout_s: float
) -> dict[str, float]:
    """Each phase's first sighting on the vehicle's clock, polling, until one in ``until``."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        phase = (await _flight(run.dfr.client, flight_id))["phase"]
        seen.setdefault(phase, run.clocks.vehicle_s(1, speed=run.speed))
        if phase in until:
            return seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"flight {flight_id} not in {until} after {timeout_s:.0f} s: {seen}")


async def test_a_call_is_flown_launched_first_try_on_time_and_docked(
    backend: str, tmp_path: Path
) -> None:
    async with sortie(backend, tmp_path) as run:
        client = run.dfr.client
        flight_id = await _call(client, f"PX4-MAIN-{backend}")
        seen = await _phases_seen(run, flight_id, {"on_scene", "aborted"}, run.wall_s(400))
        seen |= await _phases_seen(run, flight_id, {"docked"}, run.wall_s(600))
        body = await _ended(client, flight_id)

        assert [p["phase"] for p in body["phases"]] == FULL_SORTIE
        assert body["outcome"] == "docked"
        launches = [c for c in body["commands"] if c["type"] == "launch"]
        assert [c["state"] for c in launches] == ["accepted"]  # the first launch flew
        flights = (await client.get("/api/v1/flights")).json()
        assert [f["id"] for f in flights] == [flight_id]
        # planned and flown time to scene agree within 10 %, on the vehicle's clock
        flown_s = seen["on_scene"] - seen["launching"]
        planned_s = body["planned_eta_s"]
        assert abs(flown_s / planned_s - 1.0) <= 0.10, (flown_s, planned_s)
        incident = (await client.get(f"/api/v1/incidents/{body['incident_id']}")).json()
        assert incident["status"] == "closed"


async def test_link_loss_en_route_is_shown_and_the_vehicle_failsafe_brings_it_home(
    backend: str, tmp_path: Path
) -> None:
    # the vehicle's own data-link failsafe: RTL after 5 s without a GCS heartbeat
    params: dict[str, float | int] = {"NAV_DLL_ACT": 2, "COM_DL_LOSS_T": 5}
    async with sortie(backend, tmp_path, params) as run:
        client = run.dfr.client
        flight_id = await _call(client, f"PX4-DLL-{backend}")
        await _phases_seen(run, flight_id, {"enroute"}, run.wall_s(200))
        run.relay.cut = True

        async def link_lost() -> bool:
            drone = (await client.get("/api/v1/drones/fw1")).json()
            return bool(drone["link"] == "lost")

        await wait_for(link_lost, 30, "the service to show the link lost")
        await asyncio.sleep(8.0)  # COM_DL_LOSS_T (5 s, real time) and more
        run.relay.cut = False
        await _phases_seen(run, flight_id, {"docked"}, run.wall_s(600))
        body = await _ended(client, flight_id)
        kinds = [a["kind"] for a in body["alerts"]]
        assert "link_lost" in kinds and "link_back" in kinds, kinds
        phases = [p["phase"] for p in body["phases"]]
        assert "on_scene" not in phases, phases  # it turned home before reaching the scene
        assert phases[-1] == "docked"
        # the call was not served: it waits for a pilot, not believed closed
        assert body["outcome"] == "returned_short"
        incident = (await client.get(f"/api/v1/incidents/{body['incident_id']}")).json()
        assert incident["status"] == "awaiting_pilot"
