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
message is serialised once however many subscribers it reaches. A bus shared between
service instances (NATS, Redis) would implement the same two methods.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)


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
    published_ns: int = 0  # time.monotonic_ns() at publish, for latency measurements


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


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[Topic, set[Subscription]] = {t: set() for t in Topic}

    def publish(self, message: Message) -> None:
        for sub in tuple(self._subscribers[message.topic]):
            sub.offer(message)

    def subscribe(
        self,
        topic: Topic,
        *,
        latest_only: bool,
        max_pending: int = 1000,
        accept: Callable[[Message], bool] = lambda _m: True,
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
