"""Positions to NATS: coalesced per drone, at most once, none while NATS is away.

Telemetry waits in a latest-per-drone slot, so a backlog sends only the newest position
of each drone, on core NATS (``dfr.<site>.telemetry.<drone_id>``). While NATS is away
positions are not sent at all (a late position is a wrong position), only counted.
"""

from __future__ import annotations

import asyncio
import logging

import nats.errors

from dfr.bus_nats.connection import BusCounters, BusState, NatsConnection
from dfr.bus_wire import Outgoing, Subjects, headers_for

logger = logging.getLogger(__name__)


class PositionPublisher:
    """The latest-per-drone slot and the task (:meth:`run`) that empties it."""

    def __init__(
        self, connection: NatsConnection, subjects: Subjects, origin: str, counters: BusCounters
    ) -> None:
        self._connection = connection
        self.subjects = subjects
        self.origin = origin
        self.counters = counters
        self._telemetry_out: dict[str, Outgoing] = {}
        self._telemetry_waiting = asyncio.Event()

    def offer(self, out: Outgoing) -> None:
        """``out`` replaces its drone's position not yet sent."""
        self._telemetry_out[out.message.key] = out
        self._telemetry_waiting.set()

    def wake(self) -> None:
        """Let :meth:`run` see that the bus closed."""
        self._telemetry_waiting.set()

    async def run(self) -> None:
        """Each drone's newest position, at most once; none while NATS is away."""
        while self._connection.state is not BusState.CLOSED:
            await self._telemetry_waiting.wait()
            self._telemetry_waiting.clear()
            batch, self._telemetry_out = self._telemetry_out, {}
            nc = self._connection.nc
            if self._connection.state is not BusState.CONNECTED or nc is None:
                self.counters.positions_unshared += len(batch)
                continue
            for out in batch.values():
                try:
                    await nc.publish(
                        self.subjects.of(out.message),
                        out.message.text.encode(),
                        headers=headers_for(out, self.origin),
                    )
                except (nats.errors.Error, OSError) as exc:
                    self.counters.positions_unshared += 1
                    logger.debug("bus: a position not sent: %s", exc)
