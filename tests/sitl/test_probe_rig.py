"""Rigs side by side: the dispatch benchmark flies several ``ProbeRig``s in one process,
and test processes run side by side. Each picks a random port offset in steps of 10, and
PX4's port bases also differ by multiples of 10, so one rig's GCS port can be another's
vehicle API port or probe port. A rig must then refuse that offset, never share it."""

from __future__ import annotations

import asyncio
import random

import pytest

from sitl.fleet import PortPlan, VehicleSpec
from sitl.probe import ProbeRig

HOME = (32.75, -97.33, 200.0)
DEFAULT_PORTS = PortPlan()


def _spec(sysid: int) -> VehicleSpec:
    # instance 0 in both rigs: its ports are the bases plus the offset, multiples of 10
    return VehicleSpec(0, HOME[0], HOME[1], HOME[2], params={"MAV_SYS_ID": sysid})


async def _gcs_streamed(rig: ProbeRig, count: int) -> None:
    """Until the rig's vehicle has sent ``count`` messages on its GCS link (it does from
    its first tick, to the GCS port, as nobody answers there)."""
    link = rig.vehicle.gcs_link
    async with asyncio.timeout(10):
        while link.messages_sent < count:  # noqa: ASYNC110 (the simulator's own count; no event)
            await asyncio.sleep(0.01)


# 30: the second rig's GCS port (14550+o+30) is the first vehicle's API port (14580+o);
# 10: the first rig's GCS port (14550+o) is the second rig's probe port (14540+o+10)
@pytest.mark.parametrize("apart", [30, 10])
async def test_a_rig_never_takes_an_offset_whose_ports_another_rig_sends_to(
    monkeypatch: pytest.MonkeyPatch, apart: int
) -> None:
    real_randrange = random.randrange
    wanted: list[int] = []

    def randrange(*args: int) -> int:
        return wanted.pop(0) if wanted else real_randrange(*args)

    monkeypatch.setattr(random, "randrange", randrange)
    async with ProbeRig([_spec(1)], speed_factor=5.0) as first:
        offset = first.ports.api_remote_base - DEFAULT_PORTS.api_remote_base
        wanted.append(offset + apart)  # the second rig's first pick: the clashing offset
        async with ProbeRig([_spec(2)], speed_factor=5.0) as second:
            await _gcs_streamed(first, 10)
            await _gcs_streamed(second, 10)
            await asyncio.sleep(0.2)  # what was sent is read (loopback delivers at once)
            since = first.probe.mark()

            # each vehicle still answers its own probe, and each probe hears only its own
            api = first.vehicle.api_link
            assert api.remote == (first.ports.host, first.ports.api_remote_base)
            assert {m.get_srcSystem() for m in first.probe.received} == {1}
            assert {m.get_srcSystem() for m in second.probe.received} == {2}
            await first.probe.wait_for("HEARTBEAT", since=since, timeout_s=5)
            ack = await second.probe.command_long(400, 1, target=(2, 1))  # arm the second
            assert ack.result == 0 and ack.get_srcSystem() == 2
            assert second.vehicle.armed and not first.vehicle.armed
