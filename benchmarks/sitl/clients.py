"""The ground side of the simulator benchmark, run as its own process on another core.

It drains every byte the fleet sends (GCS port and every API port), connects the real
mavsdk 4.x to vehicle 0, and puts every vehicle in the air orbiting, so the simulator is
measured flying, streaming and answering, not idle on the ground:

* vehicle 0: MAVSDK Action arm + takeoff, then DO_ORBIT as COMMAND_INT (MavlinkDirect);
* vehicles 1..N-1: the same commands from pymavlink over their API ports.

Prints ``airborne <k>`` once k vehicles are orbiting (the parent waits for k == N), then
keeps draining until stdin closes.

    python -m benchmarks.sitl.clients --gcs-port 43550 --api-base 44540 --vehicles 5 [--cpu 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import os
import sys
from typing import Any, cast

from pymavlink.dialects.v20 import common as mavlink2

M = mavlink2
ORBIT_RADIUS_M = 30.0
ORBIT_SPEED_MPS = 5.0
CLIMB_TO_REL_M = 2.0


class ApiClient(asyncio.DatagramProtocol):
    """A bare pymavlink API client for one vehicle: drains, and flies it into an orbit."""

    def __init__(self, sysid: int) -> None:
        self.sysid = sysid
        self.codec = M.MAVLink(None, srcSystem=245, srcComponent=190)
        self.codec.robust_parsing = True
        self.addr: tuple[str, int] | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self.armed = False
        self.alt_rel_m = 0.0
        self.alt_amsl_m = 0.0
        self.lat_deg = math.nan
        self.lon_deg = math.nan
        self.orbit_acked = False
        self.bytes_in = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.addr = addr
        self.bytes_in += len(data)
        for msg in self.codec.parse_buffer(data) or []:
            kind = msg.get_type()
            if kind == "HEARTBEAT" and msg.get_srcComponent() == 1:
                self.armed = bool(msg.base_mode & M.MAV_MODE_FLAG_SAFETY_ARMED)
            elif kind == "GLOBAL_POSITION_INT":
                self.alt_rel_m = msg.relative_alt / 1000.0
                self.alt_amsl_m = msg.alt / 1000.0
                self.lat_deg, self.lon_deg = msg.lat / 1e7, msg.lon / 1e7
            elif kind == "COMMAND_ACK" and msg.command == M.MAV_CMD_DO_ORBIT:
                self.orbit_acked = msg.result == M.MAV_RESULT_ACCEPTED

    def send(self, msg: Any) -> None:
        if self.transport is not None and self.addr is not None:
            self.transport.sendto(msg.pack(self.codec), self.addr)

    async def fly(self) -> None:
        nan = math.nan
        while not self.orbit_acked:
            self.send(self.codec.heartbeat_encode(M.MAV_TYPE_GCS, M.MAV_AUTOPILOT_INVALID, 0, 0, 0))
            if not self.armed:
                self.send(
                    self.codec.command_long_encode(
                        self.sysid,
                        1,
                        M.MAV_CMD_COMPONENT_ARM_DISARM,
                        0,
                        1,
                        nan,
                        nan,
                        nan,
                        nan,
                        nan,
                        nan,
                    )
                )
            elif self.alt_rel_m < CLIMB_TO_REL_M:
                self.send(
                    self.codec.command_long_encode(
                        self.sysid, 1, M.MAV_CMD_NAV_TAKEOFF, 0, nan, nan, nan, nan, nan, nan, nan
                    )
                )
            else:
                self.send(
                    self.codec.command_int_encode(
                        self.sysid,
                        1,
                        M.MAV_FRAME_GLOBAL_INT,
                        M.MAV_CMD_DO_ORBIT,
                        0,
                        0,
                        ORBIT_RADIUS_M,
                        ORBIT_SPEED_MPS,
                        0,
                        0,
                        round(self.lat_deg * 1e7),
                        round(self.lon_deg * 1e7),
                        self.alt_amsl_m + 5.0,
                    )
                )
            await asyncio.sleep(0.5)
        while True:  # keep the GCS link alive (COM_DL_LOSS_T)
            self.send(self.codec.heartbeat_encode(M.MAV_TYPE_GCS, M.MAV_AUTOPILOT_INVALID, 0, 0, 0))
            await asyncio.sleep(1.0)


class Sink(asyncio.DatagramProtocol):
    """Drains a UDP port (the shared GCS port)."""

    def __init__(self) -> None:
        self.bytes_in = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.bytes_in += len(data)


async def fly_with_mavsdk(api_port: int, flying: asyncio.Event) -> None:
    """Vehicle 0 through the real mavsdk 4.x: connect, arm, take off, orbit."""
    from mavsdk.asyncio import ComponentType, Configuration, Mavsdk
    from mavsdk.asyncio.plugins.action import ActionAsync
    from mavsdk.asyncio.plugins.mavlink_direct import MavlinkDirectAsync, MavlinkMessage
    from mavsdk.asyncio.plugins.telemetry import TelemetryAsync

    async with Mavsdk(Configuration.create_with_component_type(ComponentType.GROUND_STATION)) as m:
        await m.add_any_connection(f"udpin://127.0.0.1:{api_port}")
        system = await m.first_autopilot(timeout_s=30.0)
        if system is None:
            raise RuntimeError(f"MAVSDK: no autopilot on {api_port}")
        action, telemetry, direct = (
            ActionAsync(system),
            TelemetryAsync(system),
            MavlinkDirectAsync(system),
        )
        try:
            async with contextlib.aclosing(telemetry.subscribe_health()) as healths:
                async for health in healths:
                    if health.is_armable:
                        break
            await action.arm()
            await action.takeoff()
            async with contextlib.aclosing(telemetry.subscribe_position()) as positions:
                async for pos in positions:
                    if pos.relative_altitude_m >= CLIMB_TO_REL_M:
                        break
            fields = {
                "target_system": 1,
                "target_component": 1,
                "frame": M.MAV_FRAME_GLOBAL_INT,
                "command": M.MAV_CMD_DO_ORBIT,
                "current": 0,
                "autocontinue": 0,
                "param1": ORBIT_RADIUS_M,
                "param2": ORBIT_SPEED_MPS,
                "param3": 0,
                "param4": 0,
                "x": round(pos.latitude_deg * 1e7),
                "y": round(pos.longitude_deg * 1e7),
                "z": pos.absolute_altitude_m + 5.0,
            }
            ack = await direct.send_command(
                MavlinkMessage(
                    message_name="COMMAND_INT",
                    target_system_id=1,
                    target_component_id=1,
                    fields_json=json.dumps(fields),
                )
            )
            if json.loads(ack.fields_json or "{}").get("result") != 0:
                raise RuntimeError(f"MAVSDK orbit refused: {ack}")
            flying.set()
            await asyncio.Event().wait()  # stay connected, draining telemetry, until cancelled
        finally:
            for plugin in (action, telemetry, direct):
                plugin.destroy()


async def run(gcs_port: int, api_base: int, vehicles: int) -> None:
    loop = asyncio.get_running_loop()
    transports: list[asyncio.BaseTransport] = []
    gcs_transport, _ = await loop.create_datagram_endpoint(Sink, local_addr=("127.0.0.1", gcs_port))
    transports.append(gcs_transport)
    clients: list[ApiClient] = []
    for i in range(1, vehicles):
        api_transport, client = await loop.create_datagram_endpoint(
            functools.partial(ApiClient, i + 1), local_addr=("127.0.0.1", api_base + i)
        )
        transports.append(api_transport)
        clients.append(client)
    stdin_closed = asyncio.Event()
    mavsdk_flying = asyncio.Event()

    def on_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 64):
            stdin_closed.set()

    async def report() -> None:
        reported = -1
        while True:
            flying = sum(c.orbit_acked for c in clients) + mavsdk_flying.is_set()
            if flying != reported:
                print(f"airborne {flying}", flush=True)
                reported = flying
            await asyncio.sleep(0.2)

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    tasks: set[asyncio.Task[Any]] = {
        loop.create_task(fly_with_mavsdk(api_base, mavsdk_flying), name="mavsdk v0")
    }
    tasks |= {loop.create_task(c.fly(), name=f"pymavlink v{c.sysid}") for c in clients}
    tasks.add(loop.create_task(report(), name="report"))
    stdin_task = loop.create_task(stdin_closed.wait(), name="stdin")
    tasks.add(stdin_task)
    print("listening", flush=True)
    try:
        done, _ = await asyncio.wait(
            tasks,
            return_when=asyncio.FIRST_COMPLETED,
        )
        for task in done:
            if task is not stdin_task and task.exception() is not None:
                print(f"clients: {task.get_name()} failed: {task.exception()!r}", file=sys.stderr)
    finally:
        loop.remove_reader(sys.stdin.fileno())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for transport in transports:
            transport.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--gcs-port", type=int, required=True, help="where the fleet's GCS link sends"
    )
    parser.add_argument("--api-base", type=int, required=True, help="vehicle i's API port - i")
    parser.add_argument("--vehicles", type=int, required=True)
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.gcs_port, args.api_base, args.vehicles))


if __name__ == "__main__":
    main()
