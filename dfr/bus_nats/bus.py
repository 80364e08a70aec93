""":class:`NatsBus`: the parts of :mod:`dfr.bus_nats` put together behind :class:`dfr.bus.Bus`.

It starts and closes them in order, hands what is published to this instance's
subscribers and to the publisher of its topic, and keeps this instance's subscribers
(the local fan-out, an :class:`dfr.bus.EventBus`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import nats.errors
from nats.aio.client import Client

from dfr.bus import EventBus, Message, Spawn, Subscription, Topic, accept_all
from dfr.bus_nats.connection import CONNECT_TIMEOUT_S, BusCounters, BusState, NatsConnection
from dfr.bus_nats.events import EventPublisher
from dfr.bus_nats.positions import PositionPublisher
from dfr.bus_nats.receiver import HEARTBEAT_S, Receiver
from dfr.bus_nats.stream import EventsStream
from dfr.bus_wire import Outgoing, Subjects, redacted
from dfr.errors import ConfigError, InvalidStateError

logger = logging.getLogger(__name__)


class NatsBus:
    """:class:`dfr.bus.Bus` over NATS (see :mod:`dfr.bus_nats`)."""

    def __init__(
        self,
        url: str,
        *,
        site: str,
        events_max_age_s: float = 7 * 24 * 3600.0,
        events_max_bytes: int = 1 << 30,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        events_heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.url = url
        self.subjects = Subjects.for_site(site)
        self.origin = uuid.uuid4().hex[:16]  # this instance, on every message it sends
        self.counters = BusCounters()
        self._local = EventBus()
        self._tasks: list[asyncio.Task[Any]] = []
        self._connection = NatsConnection(
            url,
            client_name=f"dfr {self.subjects.site} {self.origin}",
            connect_timeout_s=connect_timeout_s,
            counters=self.counters,
            on_closed=self._wake_publishers,
        )
        self._stream = EventsStream(
            self._connection,
            self.subjects,
            max_age_s=events_max_age_s,
            max_bytes=events_max_bytes,
        )
        self._positions = PositionPublisher(
            self._connection, self.subjects, self.origin, self.counters
        )
        self._events = EventPublisher(
            self._connection, self._stream, self.subjects, self.origin, self.counters
        )
        self._receiver = Receiver(
            self._connection,
            self.subjects,
            self.origin,
            self.counters,
            self._local,
            events_heartbeat_s=events_heartbeat_s,
        )

    @property
    def state(self) -> BusState:
        return self._connection.state

    @property
    def client(self) -> Client:
        """The NATS connection, for request/reply between instances (:mod:`dfr.instances`)."""
        nc = self._connection.nc
        if nc is None:
            raise InvalidStateError("the bus is not connected to NATS")
        return nc

    def _wake_publishers(self) -> None:
        """The connection closed for good: the publishers' tasks see it and end."""
        self._positions.wake()
        self._events.wake()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, spawn: Spawn) -> None:
        """Connect, make sure the events stream exists, subscribe (one subscription per
        topic), and run the two publisher tasks with ``spawn``. A server that cannot be
        reached, or has no JetStream, is a :class:`ConfigError` naming the URL."""
        self._connection.set_state(BusState.CONNECTING)
        try:
            await self._connection.connect()
            await self._stream.ensure()
            try:
                await self._receiver.subscribe()
            except (nats.errors.Error, OSError) as exc:
                raise ConfigError(
                    f"the event bus: cannot subscribe on NATS at {redacted(self.url)} "
                    f"(DFR_BUS_URL): {type(exc).__name__}: {exc}"
                ) from exc
        except BaseException:
            await self._connection.close()
            self._connection.set_state(BusState.CLOSED)
            raise
        self._connection.set_state(BusState.CONNECTED)
        self._tasks = [
            spawn(self._positions.run(), "bus: positions to NATS"),
            spawn(self._events.run(), "bus: events to NATS"),
        ]
        logger.info(
            "bus: NATS at %s, subjects dfr.%s.*, stream %s, instance %s",
            redacted(self.url),
            self.subjects.site,
            self.subjects.stream,
            self.origin,
        )

    async def aclose(self) -> None:
        """Wait briefly for the events not yet stored, then disconnect and end every
        local subscription. Idempotent; never raises (the service is shutting down)."""
        try:
            await self._events.drain()
            if self._connection.state is not BusState.CLOSED:
                self._connection.set_state(BusState.CLOSED)
            for task in self._tasks:
                task.cancel()
            if self._tasks:
                await asyncio.wait(self._tasks)
            self._tasks = []
            await self._connection.close()
        except Exception:
            logger.exception("bus: closing")
        finally:
            self._local.close_all()

    # -- publishing --------------------------------------------------------------------

    def publish(self, message: Message) -> None:
        """This instance's subscribers now; other instances through NATS, soon."""
        self._local.publish(message)
        if self._connection.state is BusState.CLOSED:
            return
        now_ns = time.time_ns()
        wall_ns = (
            now_ns - (time.monotonic_ns() - message.published_ns)
            if message.published_ns
            else now_ns
        )
        if message.topic is Topic.TELEMETRY:
            self._positions.offer(Outgoing(message, wall_ns, 0))
            return
        self._events.offer(message, wall_ns)

    # -- this instance's subscribers (the local fan-out) -----------------------------------

    def subscribe(
        self,
        topic: Topic,
        *,
        latest_only: bool,
        max_pending: int = 1000,
        accept: Callable[[Message], bool] = accept_all,
    ) -> Subscription:
        return self._local.subscribe(
            topic, latest_only=latest_only, max_pending=max_pending, accept=accept
        )

    def unsubscribe(self, sub: Subscription) -> None:
        self._local.unsubscribe(sub)

    def close_all(self) -> None:
        self._local.close_all()

    def subscriber_count(self, topic: Topic) -> int:
        return self._local.subscriber_count(topic)
