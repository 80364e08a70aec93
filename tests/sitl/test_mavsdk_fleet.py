"""Several vehicles, the ``dfr sim`` command, and MAVSDK instance hygiene (PX4 SITL
multi-instance conventions, reference §5.1, §5.2)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from mavsdk.asyncio.plugins.telemetry import FlightMode, LandedState

from tests.sitl.mavsdk_session import (
    MavsdkSession,
    SimRig,
    distance_m,
    free_port_offset,
)

pytestmark = pytest.mark.timeout(180)

REPO = Path(__file__).resolve().parents[2]
DFR = Path(sys.executable).parent / "dfr"


async def test_three_vehicles_three_connections_each_its_own_sysid() -> None:
    async with SimRig(vehicles=3, speed_factor=20.0, spacing_east_m=15.0) as rig:
        ids = [await s.system.get_system_id() for s in rig.sessions]
        assert ids == [1, 2, 3]
        for i, s in enumerate(rig.sessions):
            await s.wait_health_all_ok()
            assert await s.param.get_param_int("MAV_SYS_ID") == i + 1
            home = await s.telemetry.home()
            lat, lon, _ = rig.home_of(i)
            assert distance_m(home.latitude_deg, home.longitude_deg, lat, lon) < 1.0

        # Only vehicle 2 (sysid 2) takes off; the others stay on the ground, disarmed.
        flyer, idle = rig.sessions[1], [rig.sessions[0], rig.sessions[2]]
        await flyer.wait_armable()
        await flyer.take_off(2.5)
        for s in idle:
            await s.position.wait_updates(20)
            assert s.armed.latest is False
            assert s.landed.latest == LandedState.ON_GROUND
            assert s.mode.latest == FlightMode.HOLD
        snaps = [v.snapshot() for v in rig.fleet.vehicles]
        assert [snap.armed for snap in snaps] == [False, True, False]
        await flyer.action.land()
        await flyer.wait_landed_disarmed()


def _tids_not_executor_workers() -> set[int]:
    """Native thread ids of this process, minus Python's thread-pool workers (which the
    event loop's default executor keeps on purpose)."""
    workers = {
        t.native_id
        for t in threading.enumerate()
        if t.name.startswith(("asyncio_", "ThreadPoolExecutor"))
    }
    return {int(tid) for tid in os.listdir("/proc/self/task")} - workers


async def test_mavsdk_instances_do_not_leak_threads() -> None:
    async with SimRig(speed_factor=10.0) as rig:
        port = rig.ports.api_remote_base
        await rig.session.wait_health_all_ok()
        # A warm-up session on a second listener is impossible (one port per vehicle), so
        # close the rig's session first, then open/close fresh ones on the same port.
        await rig.sessions.pop().__aexit__(None, None, None)
        baseline = len(_tids_not_executor_workers())
        for _ in range(3):
            async with MavsdkSession(port) as s:
                await s.wait_health_all_ok()
                assert await s.system.get_system_id() == 1
        after = len(_tids_not_executor_workers())
        assert after <= baseline, f"{after - baseline} native threads left behind"


async def test_dfr_sim_command_serves_mavsdk_and_stops_on_sigint() -> None:
    offset = free_port_offset(2)
    with tempfile.TemporaryFile() as stderr:
        proc = await asyncio.create_subprocess_exec(
            str(DFR),
            "sim",
            "--drones",
            "2",
            "--port-offset",
            str(offset),
            "--speed",
            "5",
            cwd=REPO,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            for i in range(2):
                async with MavsdkSession(14540 + offset + i) as s:
                    assert await s.system.get_system_id() == i + 1
                    await s.wait_health_all_ok()
                    assert await s.mode.wait_for(FlightMode.HOLD) == FlightMode.HOLD
            proc.send_signal(signal.SIGINT)
            async with asyncio.timeout(20.0):
                code = await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        stderr.seek(0)
        log = stderr.read().decode(errors="replace")
        assert code == 0, f"dfr sim exited {code}:\n{log[-3000:]}"
