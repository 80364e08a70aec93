"""A minimal pymavlink ground station for protocol tests and benchmarks.

``Probe`` binds a UDP port on 127.0.0.1 (where a simulated vehicle sends, e.g. the
API link's remote port), records every decoded message, and offers awaitable
helpers: ``wait_for(type, predicate)``, ``command_long``/``command_int`` that return
the COMMAND_ACK. It talks to whichever address the vehicle sent from.

``ProbeRig`` runs a fleet on a random port offset with a probe on each API link, and
holds every port its vehicles send to (the API ports with its probes, the GCS port with
a :class:`PortHolder`), so that no other rig, in this process or another, can be bound
there: a vehicle answers the last sender, so a foreign stream arriving on its port takes
its replies away (PX4 does the same).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any, cast

from pymavlink.dialects.v20 import common as mavlink2

from sitl.wind import Wind

NAN = math.nan
CALM = Wind()


class Probe(asyncio.DatagramProtocol):
    def __init__(self, *, sysid: int = 245, compid: int = 190) -> None:
        self.mav = mavlink2.MAVLink(None, srcSystem=sysid, srcComponent=compid)
        self._decoder = mavlink2.MAVLink(None, srcSystem=sysid, srcComponent=compid)
        self._decoder.robust_parsing = True
        self.received: list[Any] = []
        self.vehicle_addr: tuple[str, int] | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._arrived = asyncio.Event()

    async def open(self, port: int, host: str = "127.0.0.1") -> Probe:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        return self

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def __aenter__(self) -> Probe:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.vehicle_addr = (str(addr[0]), int(addr[1]))
        for msg in self._decoder.parse_buffer(data) or []:
            if msg.get_type() != "BAD_DATA":
                self.received.append(msg)
        self._arrived.set()

    def error_received(self, exc: Exception) -> None:
        pass

    # --- sending ---------------------------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        assert self._transport is not None and self.vehicle_addr is not None
        self._transport.sendto(data, self.vehicle_addr)

    def send(self, msg: Any) -> None:
        data = msg.pack(self.mav)
        self.mav.seq = (self.mav.seq + 1) % 256
        self.send_raw(data)

    def heartbeat(self) -> None:
        self.send(self.mav.heartbeat_encode(6, 8, 0, 0, 0, 3))

    # --- receiving -------------------------------------------------------------------------
    def mark(self) -> int:
        """Index to pass as ``since`` to only look at messages received from now on."""
        return len(self.received)

    def of_type(self, kind: str, since: int = 0) -> list[Any]:
        return [m for m in self.received[since:] if m.get_type() == kind]

    async def wait_for(
        self,
        kind: str,
        predicate: Callable[[Any], bool] | None = None,
        *,
        since: int | None = None,
        timeout_s: float = 5.0,
    ) -> Any:
        index = self.mark() if since is None else since
        async with asyncio.timeout(timeout_s):
            while True:
                while index < len(self.received):
                    msg = self.received[index]
                    index += 1
                    if msg.get_type() == kind and (predicate is None or predicate(msg)):
                        return msg
                self._arrived.clear()
                await self._arrived.wait()

    async def connected(self, timeout_s: float = 5.0) -> Any:
        """Wait for the vehicle's first HEARTBEAT (it talks first, like PX4)."""
        return await self.wait_for("HEARTBEAT", since=0, timeout_s=timeout_s)

    async def command_long(
        self,
        command: int,
        *params: float,
        target: tuple[int, int] = (1, 1),
        timeout_s: float = 2.0,
    ) -> Any:
        p = list(params) + [NAN] * (7 - len(params))
        since = self.mark()
        self.send(self.mav.command_long_encode(target[0], target[1], command, 0, *p))
        return await self.wait_for(
            "COMMAND_ACK", lambda m: m.command == command, since=since, timeout_s=timeout_s
        )

    async def command_int(
        self,
        command: int,
        frame: int,
        p1: float = NAN,
        p2: float = NAN,
        p3: float = NAN,
        p4: float = NAN,
        x: int = 0,
        y: int = 0,
        z: float = NAN,
        *,
        target: tuple[int, int] = (1, 1),
        timeout_s: float = 2.0,
    ) -> Any:
        since = self.mark()
        self.send(
            self.mav.command_int_encode(
                target[0], target[1], frame, command, 0, 0, p1, p2, p3, p4, x, y, z
            )
        )
        return await self.wait_for(
            "COMMAND_ACK", lambda m: m.command == command, since=since, timeout_s=timeout_s
        )


class PortHolder(asyncio.DatagramProtocol):
    """Binds a port a rig's vehicles send to but nobody reads (the GCS port without a
    GCS), so no other socket can be bound there; drops what arrives, counting it."""

    def __init__(self) -> None:
        self.datagrams = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def open(self, port: int, host: str = "127.0.0.1") -> PortHolder:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.datagrams += 1

    def error_received(self, exc: Exception) -> None:
        pass

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class ProbeRig:
    """A fleet on random free ports with one :class:`Probe` listening on each API link.

    PX4's port bases differ by multiples of 10 (GCS 14550, API 14540+i, vehicle API
    14580+i, vehicle GCS 18570+i) and so do the offsets, so one rig's GCS port can be
    another rig's vehicle API port (offsets 30 apart) or probe port (10 apart). Every
    port the rig's vehicles send to is therefore bound by the rig itself: a clash fails
    at bind time and the rig tries another offset, instead of one vehicle answering
    another rig's GCS stream and its own probe hearing nothing more.
    """

    def __init__(
        self,
        specs: list[Any],
        *,
        speed_factor: float = 20.0,
        attempts: int = 5,
        wind: Wind = CALM,
    ) -> None:
        self.specs = specs
        self.speed_factor = speed_factor
        self.attempts = attempts
        self.wind = wind
        self.fleet: Any = None
        self.probes: list[Probe] = []
        self.gcs_holder: PortHolder | None = None  # on the GCS port, where no GCS listens

    async def __aenter__(self) -> ProbeRig:
        import random

        from sitl.fleet import Fleet, PortPlan

        last: OSError | None = None
        for _ in range(self.attempts):
            # an offset ending in 5: the other simulators here (dfr sim, the scenario
            # runner, tests/ports.py) send their GCS streams to 14550 + a multiple of 10,
            # never one of this rig's ports (instances 0-4), bound or not by anyone
            offset = random.randrange(2005, 40000, 10)
            ports = PortPlan().shifted(offset)
            probes: list[Probe] = []
            holder = PortHolder()
            try:
                for spec in self.specs:
                    probes.append(await Probe().open(ports.api_remote(spec.instance)))
                await holder.open(ports.gcs_remote)
                fleet = Fleet(
                    self.specs,
                    ports=ports,
                    speed_factor=self.speed_factor,
                    wind=self.wind,
                )
                await fleet.__aenter__()
            except OSError as exc:
                for p in probes:
                    p.close()
                holder.close()
                last = exc
                continue
            self.fleet, self.probes, self.ports = fleet, probes, ports
            self.gcs_holder = holder
            for p in probes:
                await p.connected()
            return self
        raise RuntimeError(f"no free ports after {self.attempts} attempts: {last}")

    async def __aexit__(self, *exc: object) -> None:
        if self.fleet is not None:
            await self.fleet.__aexit__(None, None, None)
        for p in self.probes:
            p.close()
        if self.gcs_holder is not None:
            self.gcs_holder.close()

    @property
    def probe(self) -> Probe:
        return self.probes[0]

    @property
    def vehicle(self) -> Any:
        return self.fleet.vehicles[0]
