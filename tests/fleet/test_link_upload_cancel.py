"""A mission upload cut short (the flight cancelled, the session closed) leaves no MAVSDK
call behind: real UDP, real MAVSDK, one simulated vehicle.

CI once hung for 300 s in the event loop's shutdown: the asyncio wrapper's blocking
``upload_mission`` held an executor thread, the flight was cancelled mid-transfer and the
session's ``Mavsdk`` destroyed, and the thread never returned. Uploads now go through
MAVSDK's callback API and are cancelled with the flight, so nothing is left to wait on.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from dfr.fleet.link import DroneLink
from dfr.fleet.mission_encoding import RawItem
from sitl.fleet import Fleet, PortPlan, VehicleSpec
from sitl.mission_item import MissionType
from tests.sitl.mavsdk_session import free_port_offset

pytestmark = pytest.mark.timeout(120)

HOME = (47.397742, 8.545594, 488.0)
MAV_CMD_NAV_WAYPOINT = 16
MAV_FRAME_GLOBAL_RELATIVE_ALT_INT = 6


def _waypoints(count: int) -> list[RawItem]:
    return [
        RawItem(
            i,
            MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
            MAV_CMD_NAV_WAYPOINT,
            int(i == 0),
            1,
            0.0,
            2.0,
            0.0,
            float("nan"),
            int((HOME[0] + i * 1e-5) * 1e7),
            int(HOME[1] * 1e7),
            30.0,
            0,
        )
        for i in range(count)
    ]


async def test_an_upload_cancelled_mid_transfer_leaves_no_thread_behind() -> None:
    ports = PortPlan().shifted(free_port_offset(1))
    loop = asyncio.get_running_loop()
    async with Fleet([VehicleSpec(0, *HOME)], ports=ports, speed_factor=10.0) as fleet:
        link = DroneLink("d1", f"udpin://127.0.0.1:{ports.api_remote(0)}", on_state=lambda s: None)
        running = asyncio.create_task(link.run(), name="d1: test link")
        await link.wait_connected(30)
        async with asyncio.timeout(100):  # let the connect-time parameter reads end first
            while link.limits is None:  # noqa: ASYNC110
                await asyncio.sleep(0.05)

        # a whole upload works through the callback API
        await link.upload_mission(_waypoints(5))
        assert len(fleet.vehicles[0].transfer.plans[MissionType.MISSION]) == 5

        # a long one, cancelled once it has begun, then the session closed under it
        upload = asyncio.create_task(link.upload_mission(_waypoints(400)), name="d1: upload")
        await asyncio.sleep(0.05)
        upload.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upload
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    # what asyncio.run does last: it waited for ever on the thread the upload left
    await asyncio.wait_for(loop.shutdown_default_executor(), 30)
