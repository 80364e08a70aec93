"""A QGroundControl-style GCS link for the SITL tests: one asyncio UDP socket bound to the
GCS port (127.0.0.1:<gcs_remote>), sysid 255 / compid 190, pymavlink only as the codec."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

from pymavlink.dialects.v20 import common as mavlink2

GCS_SYSID, GCS_COMPID = 255, 190
AUTOPILOT_COMPID = 1
STEP_TIMEOUT_S = 10.0
M = mavlink2


class QgcLink(asyncio.DatagramProtocol):
    """One UDP socket on 127.0.0.1:<gcs port>; decoded messages from the vehicle queue up."""

    def __init__(self, vehicle_sysid: int = 1) -> None:
        self.vehicle_sysid = vehicle_sysid
        self.codec = M.MAVLink(None, srcSystem=GCS_SYSID, srcComponent=GCS_COMPID)
        self.codec.robust_parsing = True
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.vehicle_addr: tuple[str, int] | None = None
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        for msg in self.codec.parse_buffer(data) or []:
            if msg.get_srcSystem() == self.vehicle_sysid and msg.get_type() != "BAD_DATA":
                self.vehicle_addr = addr
                self.inbox.put_nowait(msg)

    def send(self, msg: Any) -> None:
        assert self.transport is not None and self.vehicle_addr is not None
        self.transport.sendto(msg.pack(self.codec), self.vehicle_addr)

    async def receive(
        self, predicate: Callable[[Any], bool], what: str, timeout_s: float = STEP_TIMEOUT_S
    ) -> Any:
        """The next message that satisfies ``predicate`` (others are dropped)."""
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    msg = await self.inbox.get()
                    if predicate(msg):
                        return msg
        except TimeoutError:
            raise AssertionError(f"QGC: no {what} within {timeout_s} s") from None

    def drain(self) -> None:
        while not self.inbox.empty():
            self.inbox.get_nowait()

    async def command_ack(self, command: int, **params: float) -> Any:
        p = [params.get(f"p{i}", 0.0) for i in range(1, 8)]
        self.drain()
        self.send(
            self.codec.command_long_encode(self.vehicle_sysid, AUTOPILOT_COMPID, command, 0, *p)
        )
        return await self.receive(
            lambda m: m.get_type() == "COMMAND_ACK" and m.command == command,
            f"COMMAND_ACK for {command}",
        )

    async def command_int_ack(
        self,
        command: int,
        frame: int,
        params: tuple[float, float, float, float],
        lat_deg: float,
        lon_deg: float,
        z: float,
    ) -> Any:
        """Send one COMMAND_INT and return its COMMAND_ACK."""
        self.drain()
        self.send(
            self.codec.command_int_encode(
                self.vehicle_sysid,
                AUTOPILOT_COMPID,
                frame,
                command,
                0,
                0,
                *params,
                round(lat_deg * 1e7),
                round(lon_deg * 1e7),
                z,
            )
        )
        return await self.receive(
            lambda m: m.get_type() == "COMMAND_ACK" and m.command == command,
            f"COMMAND_ACK for {command}",
        )
