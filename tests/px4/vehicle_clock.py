"""The vehicles' own clocks and texts, heard on the GCS port (PX4 SITL and the simulator
both send their GCS link to 127.0.0.1:14550, shifted by a test's port offset).

PX4 on a loaded machine runs slower than real time and the simulator may run faster, so
times that are compared with planned ones are read on the vehicle's ``time_boot_ms``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from pymavlink.dialects.v20 import common as mavlink2


class VehicleClocks(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self._mav = mavlink2.MAVLink(None)
        self._mav.robust_parsing = True
        self._last: dict[int, tuple[float, float]] = {}  # sysid -> (monotonic s, boot s)
        self.texts: dict[int, list[tuple[float, str]]] = {}

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        for msg in self._mav.parse_buffer(data) or []:
            sysid = msg.get_srcSystem()
            if hasattr(msg, "time_boot_ms"):
                self._last[sysid] = (time.monotonic(), msg.time_boot_ms / 1000.0)
            if msg.get_type() == "STATUSTEXT":
                self.texts.setdefault(sysid, []).append((time.monotonic(), msg.text))

    def heard(self, sysid: int) -> bool:
        return sysid in self._last

    def vehicle_s(self, sysid: int, wall_s: float | None = None, speed: float = 1.0) -> float:
        """Vehicle ``sysid``'s boot time at monotonic ``wall_s`` (default now), from its
        latest stamp (``speed``: vehicle seconds per wall second, for the gap since)."""
        at_wall, at_boot = self._last[sysid]
        return at_boot + ((time.monotonic() if wall_s is None else wall_s) - at_wall) * speed


@contextlib.asynccontextmanager
async def vehicle_clocks(port: int = 14550) -> AsyncIterator[VehicleClocks]:
    loop = asyncio.get_running_loop()
    transport, clocks = await loop.create_datagram_endpoint(
        VehicleClocks, local_addr=("127.0.0.1", port)
    )
    try:
        yield clocks
    finally:
        transport.close()
