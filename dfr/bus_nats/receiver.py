"""What arrives from NATS, handed to this instance's subscribers (the local fan-out).

One NATS subscription per topic per instance: core NATS for positions, and for events an
ordered, ephemeral push consumer delivering the messages stored from the moment it
starts (``DeliverPolicy.NEW``; nothing old is replayed). nats-py rebuilds it after an
outage from the last stream sequence it saw, so the events other instances stored
meanwhile still arrive. A message whose ``Dfr-Origin`` header is this instance is
dropped: it reached this instance's subscribers when it was published.
"""

from __future__ import annotations

import logging
from datetime import datetime

import nats.errors
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from dfr.bus import EventBus, Topic
from dfr.bus_nats.connection import BusCounters, NatsConnection
from dfr.bus_wire import ORIGIN, Subjects, message_from

logger = logging.getLogger(__name__)

HEARTBEAT_S = 2.0  # the events consumer's idle heartbeat: two missed rebuild it
RECEIVE_PENDING_MAX = 65_536  # messages nats-py buffers for one subscription


class Receiver:
    """The two subscriptions on ``connection``, publishing what they receive, but this
    instance's own, to ``local``."""

    def __init__(
        self,
        connection: NatsConnection,
        subjects: Subjects,
        origin: str,
        counters: BusCounters,
        local: EventBus,
        *,
        events_heartbeat_s: float,
    ) -> None:
        self._connection = connection
        self.subjects = subjects
        self.origin = origin
        self.counters = counters
        self._local = local
        self._events_heartbeat_s = events_heartbeat_s
        self._events_consumer: str | None = None  # the first consumer's name
        self._events_since: datetime | None = None  # when it was made (server clock)

    async def subscribe(self) -> None:
        nc, js = self._connection.nc, self._connection.js
        assert nc is not None and js is not None
        await nc.subscribe(
            self.subjects.telemetry_all,
            cb=self._on_telemetry,
            pending_msgs_limit=RECEIVE_PENDING_MAX,
        )
        events = await js.subscribe(
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
