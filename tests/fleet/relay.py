"""A UDP relay between the service and a vehicle's API link, to lose what a test says.

The vehicle sends its API link to ``listen_port`` (its PortPlan's API remote port); the
relay forwards each datagram to the service's port from a socket of its own, and what the
service answers back to the vehicle. ``drop_from_vehicle(message)`` drops a vehicle's
message (pymavlink decodes each datagram); ``cut`` drops everything both ways (link
loss). Messages from the service are counted by type and command.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from pymavlink.dialects.v20 import common as mavlink2


class _Side(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._on = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._on(data, addr)


class MavlinkRelay:
    def __init__(self, drop_from_vehicle: Callable[[Any], bool] = lambda _m: False) -> None:
        self.drop_from_vehicle = drop_from_vehicle
        self.cut = False
        self.from_service: Counter[str] = Counter()  # "COMMAND_INT:34", "HEARTBEAT", ...
        self.dropped: Counter[str] = Counter()
        self._vehicle_addr: tuple[str, int] | None = None
        self._service_addr: tuple[str, int] = ("127.0.0.1", 0)
        self._vehicle_side: asyncio.DatagramTransport | None = None
        self._service_side: asyncio.DatagramTransport | None = None
        self._parse_vehicle = mavlink2.MAVLink(None)
        self._parse_vehicle.robust_parsing = True
        self._parse_service = mavlink2.MAVLink(None)
        self._parse_service.robust_parsing = True

    @staticmethod
    def _key(message: Any) -> str:
        name = str(message.get_type())
        command = getattr(message, "command", None)
        return f"{name}:{command}" if command is not None else name

    def _from_vehicle(self, data: bytes, addr: tuple[str, int]) -> None:
        self._vehicle_addr = addr
        if self.cut:
            return
        messages = self._parse_vehicle.parse_buffer(data) or []
        if any(self.drop_from_vehicle(m) for m in messages):
            for m in messages:
                self.dropped[self._key(m)] += 1
            return
        if self._service_side is not None:
            self._service_side.sendto(data, self._service_addr)

    def _from_service(self, data: bytes, _addr: tuple[str, int]) -> None:
        for message in self._parse_service.parse_buffer(data) or []:
            self.from_service[self._key(message)] += 1
        if self.cut or self._vehicle_addr is None:
            return
        if self._vehicle_side is not None:
            self._vehicle_side.sendto(data, self._vehicle_addr)

    @contextlib.asynccontextmanager
    async def running(self, listen_port: int, service_port: int) -> AsyncIterator[MavlinkRelay]:
        loop = asyncio.get_running_loop()
        self._service_addr = ("127.0.0.1", service_port)
        self._vehicle_side, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_vehicle), local_addr=("127.0.0.1", listen_port)
        )
        self._service_side, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_service), local_addr=("127.0.0.1", 0)
        )
        try:
            yield self
        finally:
            self._vehicle_side.close()
            self._service_side.close()
