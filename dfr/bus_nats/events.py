"""Events to NATS: stored in the JetStream stream in order, each with the stream's ack.

Events wait in a FIFO outbox (up to :data:`EVENTS_OUTBOX_MAX`; beyond it the oldest is
dropped and logged) and are published one at a time, in order, each waiting for the
stream's ack; a publish that fails is logged and retried with capped backoff, carrying
the same ``Nats-Msg-Id`` so that a retry of a publish whose ack was lost is not stored
twice. At shutdown the outbox is given :data:`DRAIN_TIMEOUT_S` to empty.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

import nats.errors
import nats.js.errors

from dfr.bus import Message
from dfr.bus_nats.connection import (
    ACK_TIMEOUT_S,
    EVENTS_OUTBOX_MAX,
    BusCounters,
    BusState,
    NatsConnection,
)
from dfr.bus_nats.stream import EventsStream
from dfr.bus_wire import Outgoing, Subjects, headers_for

logger = logging.getLogger(__name__)

RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0
DRAIN_TIMEOUT_S = 2.0  # at shutdown, for events not yet stored


class EventPublisher:
    """The events outbox and the task (:meth:`run`) that stores it in the stream."""

    def __init__(
        self,
        connection: NatsConnection,
        stream: EventsStream,
        subjects: Subjects,
        origin: str,
        counters: BusCounters,
    ) -> None:
        self._connection = connection
        self._stream = stream
        self.subjects = subjects
        self.origin = origin
        self.counters = counters
        self._events_out: deque[Outgoing] = deque()
        self._events_waiting = asyncio.Event()
        self._events_sent = asyncio.Event()  # the outbox is empty (for the drain)
        self._events_sent.set()
        self._event_seq = 0
        self._failing: str | None = None  # why events are not being stored, while they are not

    def offer(self, message: Message, wall_ns: int) -> None:
        """``message`` (published at ``wall_ns``) to the end of the outbox, numbered."""
        self._event_seq += 1
        self._events_out.append(Outgoing(message, wall_ns, self._event_seq))
        self._events_sent.clear()
        self._events_waiting.set()
        if len(self._events_out) > EVENTS_OUTBOX_MAX:
            lost = self._events_out.popleft()
            self.counters.events_lost += 1
            logger.error(
                "bus: events outbox full (%d): event %s (%s) dropped without reaching other "
                "instances (%d so far)",
                EVENTS_OUTBOX_MAX,
                lost.seq,
                lost.message.key,
                self.counters.events_lost,
            )

    def wake(self) -> None:
        """Let :meth:`run` see that the bus closed."""
        self._events_waiting.set()

    async def drain(self) -> None:
        """At shutdown: wait briefly for the events not yet stored, then count and log
        those that are still waiting, and let them go."""
        if self._events_out and self._connection.state is BusState.CONNECTED:
            try:
                async with asyncio.timeout(DRAIN_TIMEOUT_S):
                    await self._events_sent.wait()
            except TimeoutError:
                pass
        if self._events_out:
            self.counters.events_lost += len(self._events_out)
            logger.error(
                "bus: %d events not stored in NATS at shutdown (this instance's viewers "
                "had them; other instances' did not)",
                len(self._events_out),
            )
            self._events_out.clear()

    async def run(self) -> None:
        """The outbox in order, one stored (acked) event at a time; failures retried."""
        delay_s = RETRY_FIRST_S
        while self._connection.state is not BusState.CLOSED:
            if not self._events_out:
                self._events_sent.set()
                self._events_waiting.clear()
                await self._events_waiting.wait()
                continue
            if self._connection.state is not BusState.CONNECTED:
                await self._connection.wait_connected()
                continue
            out = self._events_out[0]
            try:
                await self._store_event(out)
            except (
                nats.errors.MaxPayloadError,
                nats.errors.BadSubjectError,
                nats.errors.BadHeaderError,
            ) as exc:  # can never be sent
                self._events_out.popleft()
                self.counters.events_lost += 1
                logger.error("bus: event %s (%s) cannot be sent: %s", out.seq, out.message.key, exc)
                continue
            except (nats.errors.Error, OSError, TimeoutError) as exc:
                self.counters.events_retried += 1
                if self._failing is None:
                    self._failing = f"{type(exc).__name__}: {exc}"
                    logger.warning(
                        "bus: events are not being stored in NATS (%s); %d kept, retrying",
                        self._failing,
                        len(self._events_out),
                    )
                if isinstance(exc, nats.js.errors.NoStreamResponseError):
                    await self._stream.remake()
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_S)
                continue
            self._events_out.popleft()
            delay_s = RETRY_FIRST_S
            if self._failing is not None:
                logger.info(
                    "bus: events are stored in NATS again (%d waiting)", len(self._events_out)
                )
                self._failing = None

    async def _store_event(self, out: Outgoing) -> None:
        js = self._connection.js
        if js is None:
            raise nats.errors.ConnectionClosedError
        await js.publish(
            self.subjects.of(out.message),
            out.message.text.encode(),
            timeout=ACK_TIMEOUT_S,
            stream=self.subjects.stream,
            headers=headers_for(out, self.origin),
        )
