"""The simulated fleet: many vehicles, one event loop, one physics tick.

``Fleet`` takes one :class:`VehicleSpec` per vehicle (instance, home, airframe, parameter
overrides: what PX4 SITL takes from its environment), binds every vehicle's two UDP
sockets on enter and runs one named tick task (``TICK_HZ`` real time) that advances all
vehicles and sends their due streams; on exit it cancels that task and closes every
socket. Where the specs come from is the caller's business (``dfr.sim_fleet`` turns a
site's drones into specs, as PX4's launch scripts turn positions into ``PX4_HOME_*``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from types import TracebackType

from sitl.spec import PortPlan, VehicleSpec
from sitl.vehicle import Vehicle
from sitl.wind import Wind

__all__ = ["Fleet", "PortPlan", "VehicleSpec", "Wind"]

logger = logging.getLogger(__name__)

TICK_HZ = 50.0
DEFAULT_PORTS = PortPlan()
CALM = Wind()


def _check_ports(ports: PortPlan, instances: Sequence[int]) -> None:
    """Refuse plans where two sockets would bind the same port; warn where an API link
    would send to the GCS port (PX4 SITL has the same clash from instance 10 on, and works
    round it by sending every instance > 9 to 14549)."""
    local = [ports.gcs_local_base + i for i in instances]
    local += [ports.api_local_base + i for i in instances]
    if len(set(local)) != len(local):
        raise ValueError(f"port plan {ports} binds the same port twice for instances {instances}")
    clash = [i for i in instances if ports.api_remote(i) == ports.gcs_remote]
    if clash:
        logger.warning(
            "instance %s sends its API link to the GCS port %d; for more than 10 "
            "vehicles use PortPlan(api_remote_shared_from=9) (PX4's rule) or "
            "another gcs_remote",
            clash,
            ports.gcs_remote,
        )


class Fleet:
    """Async context manager: binds all sockets on enter, stops everything cleanly on exit."""

    def __init__(
        self,
        specs: Sequence[VehicleSpec],
        *,
        ports: PortPlan = DEFAULT_PORTS,
        speed_factor: float = 1.0,
        wind: Wind = CALM,
        seed: int = 0,
    ) -> None:
        if speed_factor <= 0:
            raise ValueError(f"speed_factor must be > 0, got {speed_factor}")
        instances = [s.instance for s in specs]
        if len(set(instances)) != len(instances):
            raise ValueError(f"vehicle instances must be unique, got {instances}")
        _check_ports(ports, instances)
        self.ports = ports
        self.speed_factor = speed_factor
        self.vehicles: Sequence[Vehicle] = tuple(
            Vehicle(spec, ports=ports, speed_factor=speed_factor, wind=wind, seed=seed)
            for spec in specs
        )
        self._task: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self.tick_count = 0
        self.tick_time_s = 0.0  # real seconds spent inside ticks (for benchmarks)

    def vehicle(self, sysid: int) -> Vehicle:
        for v in self.vehicles:
            if v.sysid == sysid:
                return v
        raise KeyError(sysid)

    async def __aenter__(self) -> Fleet:
        opened: list[Vehicle] = []
        try:
            for v in self.vehicles:
                await v.open()
                opened.append(v)
        except BaseException:
            for v in opened:
                v.close()
            raise
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sitl fleet: tick")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        for v in self.vehicles:
            v.close()
        self._stopped.set()
        logger.info("fleet stopped (%d vehicles)", len(self.vehicles))

    async def run_until_stopped(self) -> None:
        """For the CLI: wait until the fleet is closed (or the caller is cancelled)."""
        task = self._task
        if task is not None:
            await asyncio.shield(task)
        else:
            await self._stopped.wait()

    async def _run(self) -> None:
        period = 1.0 / TICK_HZ
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            start = time.monotonic()
            for v in self.vehicles:
                try:
                    v.tick(start)
                except Exception:
                    logger.exception("%s: tick failed", v.name)
            self.tick_count += 1
            self.tick_time_s += time.monotonic() - start
            next_tick += period
            delay = next_tick - loop.time()
            if delay < -period:  # fell behind: do not try to catch up in a burst
                next_tick = loop.time()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))
