"""The vehicles' own clocks and texts, heard on the GCS port (PX4 SITL and the simulator
both send their GCS link to 127.0.0.1:14550, shifted by a test's port offset).

PX4 on a loaded machine runs slower than real time (its SIH lockstep falls behind) and
the simulator may run faster, so times that are compared with planned ones are read on
the vehicle's ``time_boot_ms``. The clock keeps a stamp every ``STAMP_EVERY_S`` of wall
time and maps a wall instant to vehicle time between the two stamps around it: a phase
seen at wall time t was at the vehicle time the vehicle had then, not at its latest time
less the wall seconds since (which would measure wall time again).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections.abc import AsyncIterator

from pymavlink.dialects.v20 import common as mavlink2

STAMP_EVERY_S = 0.2


class VehicleClock:
    """One vehicle's (wall monotonic s, boot s) stamps, in wall order."""

    def __init__(self) -> None:
        self.wall_s: list[float] = []
        self.boot_s: list[float] = []

    def stamp(self, wall_s: float, boot_s: float) -> None:
        if self.boot_s and boot_s < self.boot_s[-1]:
            self.wall_s.clear()  # the vehicle rebooted: its old stamps say nothing now
            self.boot_s.clear()
        if self.wall_s and wall_s - self.wall_s[-1] < STAMP_EVERY_S:
            return
        self.wall_s.append(wall_s)
        self.boot_s.append(boot_s)

    def at(self, wall_s: float, speed: float) -> float:
        """Boot time at ``wall_s``: interpolated between stamps, or extrapolated from the
        nearest end at ``speed`` vehicle seconds per wall second."""
        i = bisect.bisect_left(self.wall_s, wall_s)
        if i == 0:
            return self.boot_s[0] - (self.wall_s[0] - wall_s) * speed
        if i == len(self.wall_s):
            return self.boot_s[-1] + (wall_s - self.wall_s[-1]) * speed
        w0, w1 = self.wall_s[i - 1], self.wall_s[i]
        b0, b1 = self.boot_s[i - 1], self.boot_s[i]
        return b0 + (b1 - b0) * (wall_s - w0) / (w1 - w0)


class VehicleClocks(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self._mav = mavlink2.MAVLink(None)
        self._mav.robust_parsing = True
        self._clocks: dict[int, VehicleClock] = {}
        self.texts: dict[int, list[tuple[float, str]]] = {}

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        now = time.monotonic()
        for msg in self._mav.parse_buffer(data) or []:
            sysid = msg.get_srcSystem()
            if hasattr(msg, "time_boot_ms"):
                self._clocks.setdefault(sysid, VehicleClock()).stamp(now, msg.time_boot_ms / 1e3)
            if msg.get_type() == "STATUSTEXT":
                self.texts.setdefault(sysid, []).append((now, msg.text))

    def heard(self, sysid: int) -> bool:
        return sysid in self._clocks

    def vehicle_s(self, sysid: int, wall_s: float | None = None, speed: float = 1.0) -> float:
        """Vehicle ``sysid``'s boot time at monotonic ``wall_s`` (default now); ``speed``
        (vehicle seconds per wall second) only extrapolates past the stamps heard."""
        return self._clocks[sysid].at(time.monotonic() if wall_s is None else wall_s, speed)


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
