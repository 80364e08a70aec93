"""The runner's UDP relay between the service and each vehicle's API link: what a radio
link would be, with a switch to lose it.

Vehicle *i* sends its API link to ``vehicle_port`` (PX4 SITL's 14540 + i, shifted); the
relay forwards each datagram to the service's ``udpin`` port from a socket of its own,
and the service's answers back to the vehicle. ``cut()`` drops everything both ways
until ``restore()``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from types import TracebackType

logger = logging.getLogger(__name__)

Address = tuple[str, int]


class _Side(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, Address], None]) -> None:
        self._on = on_datagram

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._on(data, addr)

    def error_received(self, exc: Exception) -> None:
        # nobody listening on the other side (the service is down): a radio would lose it too
        logger.debug("relay: %s", exc)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LinkRelay:
    """One drone's link. An async context manager: binds on enter, closes on exit."""

    def __init__(self, drone_id: str, vehicle_port: int, service_port: int) -> None:
        self.drone_id = drone_id
        self.vehicle_port = vehicle_port
        self.service_port = service_port
        self.is_cut = False
        self.dropped_datagrams = 0
        self.forwarded_datagrams = 0
        self._vehicle_addr: Address | None = None
        self._vehicle_side: asyncio.DatagramTransport | None = None
        self._service_side: asyncio.DatagramTransport | None = None

    def cut(self) -> None:
        logger.info("%s: link cut by the runner", self.drone_id)
        self.is_cut = True

    def restore(self) -> None:
        logger.info("%s: link restored by the runner", self.drone_id)
        self.is_cut = False

    def _from_vehicle(self, data: bytes, addr: Address) -> None:
        self._vehicle_addr = addr
        if self.is_cut or self._service_side is None:
            self.dropped_datagrams += 1
            return
        self.forwarded_datagrams += 1
        self._service_side.sendto(data, ("127.0.0.1", self.service_port))

    def _from_service(self, data: bytes, _addr: Address) -> None:
        if self.is_cut or self._vehicle_addr is None or self._vehicle_side is None:
            self.dropped_datagrams += 1
            return
        self._vehicle_side.sendto(data, self._vehicle_addr)

    async def __aenter__(self) -> LinkRelay:
        loop = asyncio.get_running_loop()
        self._vehicle_side, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_vehicle), local_addr=("127.0.0.1", self.vehicle_port)
        )
        try:
            self._service_side, _ = await loop.create_datagram_endpoint(
                lambda: _Side(self._from_service), local_addr=("127.0.0.1", 0)
            )
        except BaseException:
            self._vehicle_side.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for side in (self._vehicle_side, self._service_side):
            if side is not None:
                side.close()
        self._vehicle_side = self._service_side = None
