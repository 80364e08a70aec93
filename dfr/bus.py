"""The in-process event bus: positions and events from the fleet to every subscriber.

Publishing never waits for a subscriber. Each subscriber has its own bounded queue of
one of two kinds:

* **latest-value** (live views such as ``/ws/telemetry``): one slot per key (the drone
  id); a newer message for the same drone replaces the one not yet sent, so a slow
  viewer sees fewer, but always current, positions and never falls behind;
* **buffered** (``/ws/events``, recorders): a FIFO up to ``max_pending`` messages; when a
  subscriber falls that far behind, the oldest message is dropped and the subscriber is
  told how many it missed (``dropped``).

Messages are already-encoded JSON text plus the fields needed for filtering, so a
message is serialised once however many subscribers it reaches.

:class:`Bus` is the interface the service and the websockets use. Two implementations:
:class:`EventBus` here (one process: the embedded default) and
:class:`dfr.bus_nats.NatsBus` (several service instances sharing NATS: ``DFR_BUS_URL``).
Both have the same lifecycle, ``await bus.start(spawn)`` with the service's task
spawner and ``await bus.aclose()``; for the in-process bus they do nothing but end the
subscriptions, so the service code is the same for both.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# the service's task spawner: runs a coroutine as a named task of its task group
Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


class Topic(StrEnum):
    TELEMETRY = "telemetry"
    EVENTS = "events"


@dataclass(frozen=True, slots=True)
class Message:
    topic: Topic
    key: str  # drone id for telemetry; event type for events
    text: str  # the JSON as sent to websocket clients
    drone_id: str | None = None
    flight_id: str | None = None
    # time.monotonic_ns() at publish, for latency measurements (``monotonic_ns() -
    # published_ns`` is the message's age); a message from another instance carries its
    # wall-clock publish time, mapped onto this process's monotonic clock on receipt
    published_ns: int = 0


def make_message(topic: Topic, body: dict[str, Any], *, published_ns: int = 0) -> Message:
    drone_id = body.get("drone_id")
    flight_id = body.get("flight_id")
    return Message(
        topic=topic,
        key=str(drone_id if topic is Topic.TELEMETRY else body.get("type", "")),
        text=json.dumps(body, separators=(",", ":")),
        drone_id=drone_id,
        flight_id=flight_id,
        published_ns=published_ns,
    )


@dataclass(slots=True, eq=False)
class Subscription:
    """One subscriber's queue; read with :meth:`get_batch`, close with :meth:`close`."""

    topic: Topic
    latest_only: bool
    max_pending: int
    accept: Callable[[Message], bool]
    _latest: OrderedDict[str, Message] = field(default_factory=OrderedDict)
    _fifo: deque[Message] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    closed: bool = False

    def offer(self, message: Message) -> None:
        if self.closed or not self.accept(message):
            return
        if self.latest_only:
            if message.key in self._latest:
                self.dropped += 1
                del self._latest[message.key]
            self._latest[message.key] = message
        else:
            if len(self._fifo) >= self.max_pending:
                self._fifo.popleft()
                self.dropped += 1
            self._fifo.append(message)
        self._ready.set()

    async def get_batch(self) -> list[Message]:
        """Wait for at least one message; return everything pending, oldest first."""
        while True:
            if self.closed:
                raise EOFError("subscription closed")
            if self._latest or self._fifo:
                break
            self._ready.clear()
            await self._ready.wait()
        if self.latest_only:
            batch = list(self._latest.values())
            self._latest.clear()
        else:
            batch = list(self._fifo)
            self._fifo.clear()
        return batch

    def close(self) -> None:
        self.closed = True
        self._ready.set()


def accept_all(_message: Message) -> bool:
    return True


class Bus(Protocol):
    """What the service publishes to and the websockets subscribe to."""

    async def start(self, spawn: Spawn) -> None:
        """Connect, and run the bus's own tasks with ``spawn`` (the service's group)."""

    async def aclose(self) -> None:
        """Send what is still pending (briefly), disconnect, end every subscription."""

    def publish(self, message: Message) -> None:
        """Hand a message over; never waits, never raises for a slow or absent peer."""

    def subscribe(
        self,
        topic: Topic,
        *,
        latest_only: bool,
        max_pending: int = 1000,
        accept: Callable[[Message], bool] = accept_all,
    ) -> Subscription: ...

    def unsubscribe(self, sub: Subscription) -> None: ...

    def close_all(self) -> None: ...

    def subscriber_count(self, topic: Topic) -> int:
        """This instance's subscribers (websockets) of ``topic``."""
        ...


class EventBus:
    """The in-process bus: one service instance; also the local fan-out of :class:`NatsBus`."""

    def __init__(self) -> None:
        self._subscribers: dict[Topic, set[Subscription]] = {t: set() for t in Topic}

    async def start(self, spawn: Spawn) -> None:
        """Nothing to connect and no task of its own."""

    async def aclose(self) -> None:
        self.close_all()

    def publish(self, message: Message) -> None:
        for sub in tuple(self._subscribers[message.topic]):
            sub.offer(message)

    def subscribe(
        self,
        topic: Topic,
        *,
        latest_only: bool,
        max_pending: int = 1000,
        accept: Callable[[Message], bool] = accept_all,
    ) -> Subscription:
        sub = Subscription(topic, latest_only, max_pending, accept)
        self._subscribers[topic].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        sub.close()
        self._subscribers[sub.topic].discard(sub)

    def close_all(self) -> None:
        """End every subscription (service shutdown): their readers get EOFError."""
        for subs in self._subscribers.values():
            for sub in subs:
                sub.close()
            subs.clear()

    def subscriber_count(self, topic: Topic) -> int:
        return len(self._subscribers[topic])
