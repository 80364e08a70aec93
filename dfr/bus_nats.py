"""The event bus over NATS: several service instances share positions and events.

Each instance holds **one** NATS connection and **one** NATS subscription per topic, and
fans what arrives out to its own websockets through the same latest-value and buffered
queues as the in-process bus (:class:`dfr.bus.EventBus`, held here as ``_local``); a
websocket never has a NATS subscription of its own.

Subjects (:mod:`dfr.bus_wire`, with the headers), for a site token ``<site>``::

    dfr.<site>.telemetry.<drone_id>   core NATS: at most once, latest wins
    dfr.<site>.events.<type>          JetStream stream ``dfr-<site>-events`` (file
                                      storage, limited by age and size, old ones go first)

**Publishing** never waits: :meth:`NatsBus.publish` delivers to this instance's own
subscribers at once and hands the message to one of two publisher tasks the bus runs in
the service's task group. Telemetry waits in a latest-per-drone slot (a backlog sends
only the newest position of each drone) and is *not* sent while NATS is away (a late
position is a wrong position). Events wait in a FIFO (up to :data:`EVENTS_OUTBOX_MAX`)
and are published to JetStream one at a time, in order, each waiting for the stream's
ack; a publish that fails is logged and retried with capped backoff, carrying the same
``Nats-Msg-Id`` so that a retry of a publish whose ack was lost is not stored twice.

**Own messages exactly once.** An instance's own messages reach its own subscribers
locally, never through NATS: the connection is ``no_echo`` (the server does not send an
instance its own core messages back), and the events consumer drops the messages whose
``Dfr-Origin`` header is this instance (JetStream delivers them, since the stream, not
the connection, sends them). So the instance's own viewers see its drones with the
in-process latency, and go on seeing them while NATS is down.

**Receiving events**: an ordered, ephemeral push consumer per instance, delivering
the messages stored from the moment it starts (``DeliverPolicy.NEW``; nothing old is
replayed). nats-py rebuilds it after an outage from the last stream sequence it saw, so
the events other instances stored meanwhile still arrive.

**Latency across processes**: ``Message.published_ns`` is per-process monotonic time;
the wire carries the publisher's wall-clock publish time (``Dfr-Published-Wall-Ns``), and
the receiver maps it onto its own monotonic clock, so ``monotonic_ns() - published_ns`` is
the age of the message there too (exact on one machine; across machines as good as their
clock sync).

**Connection state**: :class:`BusState`. nats-py reconnects forever; the bus logs the
outage once and its end once, and the service runs on meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from dfr.bus import EventBus, Message, Spawn, Subscription, Topic, accept_all
from dfr.bus_wire import ORIGIN, Outgoing, Subjects, headers_for, message_from, redacted
from dfr.errors import ConfigError, InvalidStateError

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0  # at start; after that nats-py reconnects for as long as it takes
RECONNECT_WAIT_S = 1.0
ACK_TIMEOUT_S = 2.0  # one JetStream publish waiting for the stream's ack
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0
DRAIN_TIMEOUT_S = 2.0  # at shutdown, for events not yet stored
HEARTBEAT_S = 2.0  # the events consumer's idle heartbeat: two missed rebuild it
EVENTS_OUTBOX_MAX = 10_000
RECEIVE_PENDING_MAX = 65_536  # messages nats-py buffers for one subscription


class BusState(StrEnum):
    NEW = "new"
    CONNECTING = "connecting"  # start(): connecting, making the stream, subscribing
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # nats-py is reconnecting; local delivery goes on
    CLOSED = "closed"


_TRANSITIONS: dict[BusState, set[BusState]] = {
    BusState.NEW: {BusState.CONNECTING, BusState.CLOSED},
    BusState.CONNECTING: {BusState.CONNECTED, BusState.CLOSED},
    BusState.CONNECTED: {BusState.DISCONNECTED, BusState.CLOSED},
    BusState.DISCONNECTED: {BusState.CONNECTED, BusState.CLOSED},
    BusState.CLOSED: set(),
}


@dataclass(slots=True)
class BusCounters:
    """What did not travel as it should, since start (logged too, once per spell)."""

    positions_unshared: int = 0  # not sent: NATS away, or nats-py's buffer full
    events_retried: int = 0  # JetStream publishes that failed and were tried again
    events_lost: int = 0  # dropped from a full outbox or unsendable (logged as errors)
    received_malformed: int = 0  # messages on our subjects we could not read


class NatsBus:
    """:class:`dfr.bus.Bus` over NATS (see the module's docstring)."""

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
        self._events_max_age_s = events_max_age_s
        self._events_max_bytes = events_max_bytes
        self._connect_timeout_s = connect_timeout_s
        self._events_heartbeat_s = events_heartbeat_s
        self._local = EventBus()
        self._state = BusState.NEW
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._telemetry_out: dict[str, Outgoing] = {}
        self._telemetry_waiting = asyncio.Event()
        self._events_out: deque[Outgoing] = deque()
        self._events_waiting = asyncio.Event()
        self._events_sent = asyncio.Event()  # the outbox is empty (for the drain)
        self._events_sent.set()
        self._connected = asyncio.Event()
        self._event_seq = 0
        self._events_consumer: str | None = None  # the first consumer's name
        self._events_since: datetime | None = None  # when it was made (server clock)
        self._down_since_s = 0.0
        self._failing: str | None = None  # why events are not being stored, while they are not
        self._last_error: BaseException | None = None

    @property
    def state(self) -> BusState:
        return self._state

    def _set_state(self, new: BusState) -> None:
        old = self._state
        if new not in _TRANSITIONS[old]:
            raise InvalidStateError(f"bus: cannot go from {old} to {new}")
        self._state = new
        if new is BusState.CONNECTED:
            self._connected.set()
        else:
            self._connected.clear()
        if old is BusState.CONNECTED and new is BusState.DISCONNECTED:
            self._down_since_s = time.monotonic()
            logger.warning(
                "bus: NATS at %s unavailable; this instance's positions and events reach "
                "only its own viewers, events are kept (up to %d) and sent when it is back; "
                "reconnecting",
                redacted(self.url),
                EVENTS_OUTBOX_MAX,
            )
        elif old is BusState.DISCONNECTED and new is BusState.CONNECTED:
            logger.info(
                "bus: NATS at %s back after %.1f s (%d positions not shared so far)",
                redacted(self.url),
                time.monotonic() - self._down_since_s,
                self.counters.positions_unshared,
            )
        else:
            logger.info("bus: %s -> %s", old, new)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, spawn: Spawn) -> None:
        """Connect, make sure the events stream exists, subscribe (one subscription per
        topic), and run the two publisher tasks with ``spawn``. A server that cannot be
        reached, or has no JetStream, is a :class:`ConfigError` naming the URL."""
        self._set_state(BusState.CONNECTING)
        try:
            await self._connect()
            await self._ensure_stream()
            try:
                await self._subscribe()
            except (nats.errors.Error, OSError) as exc:
                raise ConfigError(
                    f"the event bus: cannot subscribe on NATS at {redacted(self.url)} "
                    f"(DFR_BUS_URL): {type(exc).__name__}: {exc}"
                ) from exc
        except BaseException:
            await self._close_connection()
            self._set_state(BusState.CLOSED)
            raise
        self._set_state(BusState.CONNECTED)
        self._tasks = [
            spawn(self._send_telemetry(), "bus: positions to NATS"),
            spawn(self._send_events(), "bus: events to NATS"),
        ]
        logger.info(
            "bus: NATS at %s, subjects dfr.%s.*, stream %s, instance %s",
            redacted(self.url),
            self.subjects.site,
            self.subjects.stream,
            self.origin,
        )

    async def _connect(self) -> None:
        nc = Client()
        self._nc = nc
        servers = [one.strip() for one in self.url.split(",") if one.strip()]
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                await nc.connect(
                    servers,
                    name=f"dfr {self.subjects.site} {self.origin}",
                    no_echo=True,  # own core messages are delivered locally
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,  # for ever: the service runs on meanwhile
                    reconnect_time_wait=RECONNECT_WAIT_S,  # type: ignore[arg-type]
                    connect_timeout=min(2.0, self._connect_timeout_s),  # type: ignore[arg-type]
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                    closed_cb=self._on_closed,
                )
        except (TimeoutError, nats.errors.Error, OSError) as exc:
            why = self._last_error or exc
            raise ConfigError(
                f"the event bus: cannot connect to NATS at {redacted(self.url)} (DFR_BUS_URL) "
                f"within {self._connect_timeout_s:g} s ({type(why).__name__}: {why}). Start a "
                "NATS server with JetStream there (nats-server -js -sd DIR), correct "
                "DFR_BUS_URL, or unset it for the in-process bus (one instance only)"
            ) from exc
        self._js = nc.jetstream(timeout=ACK_TIMEOUT_S)

    async def _ensure_stream(self) -> None:
        """Make the stream, or bring an existing one to these limits."""
        assert self._js is not None
        config = self.subjects.stream_config(
            max_age_s=self._events_max_age_s, max_bytes=self._events_max_bytes
        )
        try:
            try:
                await self._js.add_stream(config)
            except nats.js.errors.APIError as exc:
                if exc.err_code != 10058:  # "name already in use with a different config"
                    raise
                await self._js.update_stream(config)
        except (nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError) as exc:
            raise ConfigError(
                f"the event bus: the NATS server at {redacted(self.url)} (DFR_BUS_URL) has no "
                "JetStream, which keeps the events: start it with -js (nats-server -js -sd DIR) "
                "or enable jetstream in its configuration"
            ) from exc
        except (nats.errors.Error, OSError) as exc:
            raise ConfigError(
                f"the event bus: cannot set up the stream {self.subjects.stream} on NATS at "
                f"{redacted(self.url)} (DFR_BUS_URL): {type(exc).__name__}: {exc}"
            ) from exc

    async def _subscribe(self) -> None:
        assert self._nc is not None and self._js is not None
        await self._nc.subscribe(
            self.subjects.telemetry_all,
            cb=self._on_telemetry,
            pending_msgs_limit=RECEIVE_PENDING_MAX,
        )
        events = await self._js.subscribe(
            self.subjects.events_all,
            cb=self._on_event,
            stream=self.subjects.stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            idle_heartbeat=self._events_heartbeat_s,
            pending_msgs_limit=RECEIVE_PENDING_MAX,
        )
        info = await events.consumer_info()
        self._events_consumer = info.name
        self._events_since = info.created

    async def aclose(self) -> None:
        """Wait briefly for the events not yet stored, then disconnect and end every
        local subscription. Idempotent; never raises (the service is shutting down)."""
        try:
            if self._events_out and self._state is BusState.CONNECTED:
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
            if self._state is not BusState.CLOSED:
                self._set_state(BusState.CLOSED)
            for task in self._tasks:
                task.cancel()
            if self._tasks:
                await asyncio.wait(self._tasks)
            self._tasks = []
            await self._close_connection()
        except Exception:
            logger.exception("bus: closing")
        finally:
            self._local.close_all()

    async def _close_connection(self) -> None:
        nc, self._nc = self._nc, None
        self._js = None
        if nc is None or nc.is_closed:
            return
        try:
            await nc.close()
        except (nats.errors.Error, OSError) as exc:
            logger.warning("bus: closing the NATS connection: %s", exc)

    # -- nats-py's callbacks -------------------------------------------------------------

    async def _on_error(self, exc: Exception) -> None:
        self._last_error = exc
        if isinstance(exc, nats.errors.SlowConsumerError):
            logger.debug("bus: this instance reads NATS too slowly; a message was dropped")
        else:  # every failed reconnect attempt: the outage itself is logged once
            logger.debug("bus: NATS: %s: %s", type(exc).__name__, exc)

    async def _on_disconnected(self) -> None:
        if self._state is BusState.CONNECTED:
            self._set_state(BusState.DISCONNECTED)

    async def _on_reconnected(self) -> None:
        if self._state is BusState.DISCONNECTED:
            self._set_state(BusState.CONNECTED)

    async def _on_closed(self) -> None:
        if self._state in (BusState.CONNECTED, BusState.DISCONNECTED):
            logger.error(
                "bus: the NATS connection to %s closed for good (%s); positions and events "
                "now reach only this instance's viewers",
                redacted(self.url),
                self._last_error,
            )
            self._set_state(BusState.CLOSED)
            self._telemetry_waiting.set()
            self._events_waiting.set()

    # -- publishing --------------------------------------------------------------------

    def publish(self, message: Message) -> None:
        """This instance's subscribers now; other instances through NATS, soon."""
        self._local.publish(message)
        if self._state is BusState.CLOSED:
            return
        now_ns = time.time_ns()
        wall_ns = (
            now_ns - (time.monotonic_ns() - message.published_ns)
            if message.published_ns
            else now_ns
        )
        if message.topic is Topic.TELEMETRY:
            self._telemetry_out[message.key] = Outgoing(message, wall_ns, 0)
            self._telemetry_waiting.set()
            return
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

    async def _send_telemetry(self) -> None:
        """Each drone's newest position, at most once; none while NATS is away."""
        while self._state is not BusState.CLOSED:
            await self._telemetry_waiting.wait()
            self._telemetry_waiting.clear()
            batch, self._telemetry_out = self._telemetry_out, {}
            nc = self._nc
            if self._state is not BusState.CONNECTED or nc is None:
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

    async def _send_events(self) -> None:
        """The outbox in order, one stored (acked) event at a time; failures retried."""
        delay_s = RETRY_FIRST_S
        while self._state is not BusState.CLOSED:
            if not self._events_out:
                self._events_sent.set()
                self._events_waiting.clear()
                await self._events_waiting.wait()
                continue
            if self._state is not BusState.CONNECTED:
                await self._connected.wait()
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
                    await self._remake_stream()
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
        js = self._js
        if js is None:
            raise nats.errors.ConnectionClosedError
        await js.publish(
            self.subjects.of(out.message),
            out.message.text.encode(),
            timeout=ACK_TIMEOUT_S,
            stream=self.subjects.stream,
            headers=headers_for(out, self.origin),
        )

    async def _remake_stream(self) -> None:
        """No stream answered: a server that lost its store; make the stream again."""
        try:
            await self._ensure_stream()
        except ConfigError as exc:
            logger.debug("bus: %s", exc)

    # -- receiving ---------------------------------------------------------------------

    async def _on_telemetry(self, msg: Msg) -> None:
        self._receive(Topic.TELEMETRY, msg)

    async def _on_event(self, msg: Msg) -> None:
        try:
            meta = msg.metadata
        except nats.errors.NotJSMessageError:
            return
        # nats-py rebuilds the ordered consumer after an outage from the last stream
        # sequence it delivered; if that was none, from the stream's start: skip what was
        # stored before this instance subscribed
        since = self._events_since
        if meta.consumer != self._events_consumer and since is not None and meta.timestamp < since:
            return
        self._receive(Topic.EVENTS, msg)

    def _receive(self, topic: Topic, msg: Msg) -> None:
        headers = msg.headers or {}
        if headers.get(ORIGIN) == self.origin:
            return  # our own: delivered locally when published
        try:
            message = message_from(topic, msg.data, headers)
        except (UnicodeDecodeError, ValueError, TypeError) as exc:
            self.counters.received_malformed += 1
            log = logger.warning if self.counters.received_malformed == 1 else logger.debug
            log("bus: unreadable message on %s dropped: %s", msg.subject, exc)
            return
        self._local.publish(message)

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
