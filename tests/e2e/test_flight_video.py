"""A flight's video: the drone's camera (simulated, RTP/H.264 like PX4 SITL's) is
recorded from launch to landing beside the flight record, hashed, listed on the flight,
downloadable by a supervisor (not a pilot or a viewer), and plays back in PyAV."""

from __future__ import annotations

import hashlib
from contextlib import AsyncExitStack
from pathlib import Path

import av

from dfr.auth.tokens import Role
from dfr.sim_fleet import specs_for_site
from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan
from sitl.fleet_cameras import enter_cameras
from tests.e2e.harness import VIEWER, port_offset, running_dfr, wait_for
from tests.e2e.scenes import call, wall_site


async def test_flight_is_recorded_hashed_and_downloadable(tmp_path: Path) -> None:
    offset = port_offset()
    site_dir = wall_site(
        tmp_path / "site", drones=[{"id": "far", "dock": "b", "video_url": "rtp://127.0.0.1:5600"}]
    )
    fleet = Fleet(
        specs_for_site(load_site(site_dir), airframe="dfr_quad"),
        ports=PortPlan().shifted(offset),
        speed_factor=10.0,
    )
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(fleet)
        await enter_cameras(stack, fleet, size_px=(320, 240), fps=10.0)
        dfr = await stack.enter_async_context(
            running_dfr(site_dir, tmp_path / "data", offset=offset, speed=10.0, fleet=fleet)
        )
        client = dfr.client

        async def ready() -> bool:
            drone = (await client.get("/api/v1/drones/far")).json()
            return bool(drone["link"] == "up" and drone["armable"] and drone["health_ok"])

        await wait_for(ready, 60, "drone ready")
        snapshot = await client.get("/api/v1/drones/far/snapshot.jpg")
        assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"

        (await client.post("/api/v1/calls", json=call("V1"))).raise_for_status()
        (flight,) = (await client.get("/api/v1/flights")).json()

        async def on_scene() -> bool:
            return (await client.get(f"/api/v1/flights/{flight['id']}")).json()[
                "phase"
            ] == "on_scene"

        await wait_for(on_scene, 120, "on scene")
        (
            await client.post(f"/api/v1/flights/{flight['id']}/commands", json={"type": "return"})
        ).raise_for_status()

        async def recorded() -> list[dict[str, object]] | None:
            body = (await client.get(f"/api/v1/flights/{flight['id']}")).json()
            return body["recordings"] if body["ended_at"] and body["recordings"] else None

        (recording,) = await wait_for(recorded, 180, "flight ended with its recording")
        record = (await client.get(f"/api/v1/flights/{flight['id']}")).json()

        refused = await client.get(
            str(recording["url"]), headers={"Authorization": f"Bearer {VIEWER}"}
        )
        assert refused.status_code == 403
        as_pilot = await client.get(str(recording["url"]))  # flies it, does not review it
        assert as_pilot.status_code == 403 and "supervisor" in as_pilot.json()["detail"]
        supervisor = dfr.service.tokens.issue("sam", Role.SUPERVISOR)
        download = await client.get(
            str(recording["url"]), headers={"Authorization": f"Bearer {supervisor}"}
        )
        assert download.status_code == 200
        assert hashlib.sha256(download.content).hexdigest() == recording["sha256"]
        assert download.headers["x-content-sha256"] == recording["sha256"]

        path = tmp_path / "flight.mp4"
        path.write_bytes(download.content)
        with av.open(str(path)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == recording["frame_count"] > 10
        # the recording spans the flight, launch to landing (wall clock; a few seconds of slack
        # for the first keyframe and the last packets)
        phases = {p["phase"]: p["at"] for p in record["phases"]}
        from datetime import datetime

        flown_s = (
            datetime.fromisoformat(phases["docked"]) - datetime.fromisoformat(phases["preflight"])
        ).total_seconds()
        assert abs(float(recording["duration_s"]) - flown_s) < max(3.0, 0.25 * flown_s)
