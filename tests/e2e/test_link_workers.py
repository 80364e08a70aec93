"""The drones' MAVSDK links in link worker processes, whole path.

* A worker killed (SIGKILL) while its drone flies to a call: the drone's link shows lost
  and a command meanwhile is refused with the reason; the other worker's drone is not
  touched; the worker is started again, the link comes back and the flight docks.
* More drones than MAVSDK has channels in one process: a generated 50-drone site
  (``dfr.fleet_site``), the simulator as its own process (``dfr sim --api-port-base``),
  every link up, and a call per drone, all 50 in flight at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from dfr.fleet_site import DEFAULT_API_PORT_BASE, write_fleet_site
from dfr.site import load_site
from tests.child_stop import stop_child
from tests.e2e.harness import port_offset, running_dfr, wait_for
from tests.e2e.scenes import call, wall_site
from tests.ports import free_port_offset

pytestmark = pytest.mark.timeout(420)


async def _drone(client: httpx.AsyncClient, drone_id: str) -> dict[str, Any]:
    return dict((await client.get(f"/api/v1/drones/{drone_id}")).json())


async def _all_ready(client: httpx.AsyncClient) -> bool:
    drones = (await client.get("/api/v1/drones")).json()
    return all(d["link"] == "up" and d["armable"] and d["health_ok"] for d in drones)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_killed_link_worker_comes_back_and_the_flight_docks(tmp_path: Path) -> None:
    site = wall_site(tmp_path / "site", policy={"on_scene_time_s": 20})
    async with running_dfr(
        site,
        tmp_path / "data",
        offset=port_offset(),
        speed=10.0,
        settings_changes={"link_worker_drones": 1},
    ) as dfr:
        client = dfr.client
        workers = {w.name: w for w in dfr.service.link_workers}
        assert len(workers) == 2, workers  # one drone each
        await wait_for(lambda: _all_ready(client), 60, "both drones up and armable")
        pids = {w.index: w.pid for w in workers.values()}
        assert all(pids.values()) and pids[0] != pids[1] and os.getpid() not in pids.values()

        made = await client.post("/api/v1/calls", json=call("WORKER-1"))
        assert made.status_code == 201, made.text
        (flight,) = (await client.get("/api/v1/flights")).json()
        flight_id, drone_id = flight["id"], flight["drone_id"]
        worker = next(w for w in workers.values() if drone_id in w.links)
        other = next(w for w in workers.values() if w is not worker)
        other_drone = next(iter(other.links))

        async def phase_is(name: str) -> bool:
            got = (await client.get(f"/api/v1/flights/{flight_id}")).json()["phase"]
            return bool(got == name)

        await wait_for(lambda: phase_is("enroute"), 60, "en route")
        killed = worker.pid
        assert killed is not None
        os.kill(killed, signal.SIGKILL)

        async def link_is(drone: str, state: str) -> bool:
            return (await _drone(client, drone))["link"] == state

        await wait_for(lambda: link_is(drone_id, "lost"), 20, "the link shown lost")
        refused = await client.post(f"/api/v1/flights/{flight_id}/commands", json={"type": "hold"})
        # refused with the reason, or (had the worker come back already) done: never a 500
        assert refused.status_code in (200, 503), refused.text
        if refused.status_code == 503:
            assert "link" in refused.text, refused.text
        assert (await _drone(client, other_drone))["link"] == "up"
        assert other.pid == pids[other.index] and other.starts == 1

        await wait_for(lambda: link_is(drone_id, "up"), 30, "the link back")
        assert worker.starts == 2 and worker.pid not in (None, killed)
        shown = (await _drone(client, drone_id))["link_worker"]
        assert shown == {"index": worker.index, "pid": worker.pid, "starts": 2}, shown
        assert not _alive(killed)

        async def ended() -> bool:
            record = (await client.get(f"/api/v1/flights/{flight_id}")).json()
            return record["ended_at"] is not None

        await wait_for(ended, 240, "the flight docked")
        record = (await client.get(f"/api/v1/flights/{flight_id}")).json()
        assert record["outcome"] == "docked", record
        lost = [a for a in record["alerts"] if a["kind"] == "link_lost"]
        assert lost and "link worker stopped" in lost[0]["message"], record["alerts"]


FLEET = 50
FLEET_BASES = (DEFAULT_API_PORT_BASE, 14550, 14580, 18570, 5600)


async def test_fifty_drones_one_service_a_call_each_in_flight_at_once(tmp_path: Path) -> None:
    site_dir = write_fleet_site(tmp_path / "site50", FLEET, spacing_m=2500.0)
    site = load_site(site_dir)
    offset = free_port_offset(FLEET, FLEET_BASES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFR_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    with (tmp_path / "sim.log").open("wb") as log:
        sim = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dfr.cli",
            "sim",
            "--site",
            str(site_dir),
            "--api-port-base",
            str(DEFAULT_API_PORT_BASE),
            "--port-offset",
            str(offset),
            "--speed",
            "2",
            "--no-camera",
            "--airframe",
            "dfr_quad",
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
    try:
        async with running_dfr(
            site_dir,
            tmp_path / "data",
            offset=offset,
            speed=2.0,
            external_fleet=True,
            settings_changes={"video": False, "connect_timeout_s": 60.0},
        ) as dfr:
            client = dfr.client
            assert len(dfr.service.link_workers) == 7  # 8 drones a worker
            await wait_for(lambda: _all_ready(client), 180, "all 50 links up and armable")
            assert sim.returncode is None

            for i, drone in enumerate(site.drones):
                dock = site.dock_of(drone)
                scene = (dock.lat + 0.004, dock.lon + 0.004)  # ~600 m from each dock
                made = await client.post("/api/v1/calls", json=call(f"FLEET-{i:02d}", where=scene))
                assert made.status_code == 201, made.text

            async def all_airborne() -> bool:
                flights = (await client.get("/api/v1/flights")).json()
                flying = [f for f in flights if f["phase"] in ("enroute", "on_scene")]
                return len(flying) == FLEET

            await wait_for(all_airborne, 240, "all 50 flights en route or on scene at once")
            flights = (await client.get("/api/v1/flights")).json()
            assert {f["drone_id"] for f in flights} == {d.id for d in site.drones}
            drones = (await client.get("/api/v1/drones")).json()
            assert all(d["link"] == "up" for d in drones)
    finally:
        await stop_child(sim)
    log_text = (tmp_path / "sim.log").read_text(errors="replace")
    assert "Traceback" not in log_text, log_text[-3000:]
