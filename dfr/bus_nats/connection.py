"""The bus's one NATS connection and the state machine of :class:`NatsBus`.

:class:`BusState` is the bus's state: :meth:`NatsBus.start` and :meth:`NatsBus.aclose`
move it, and so do nats-py's callbacks here (an outage and its end, the connection closed
for good). nats-py reconnects forever; the outage is logged once and its end once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext

from dfr.bus_wire import redacted
from dfr.errors import ConfigError, InvalidStateError

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0  # at start; after that nats-py reconnects for as long as it takes
RECONNECT_WAIT_S = 1.0
ACK_TIMEOUT_S = 2.0  # one JetStream publish waiting for the stream's ack
EVENTS_OUTBOX_MAX = 10_000  # events kept while they cannot be stored (the events publisher)


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


class NatsConnection:
    """One NATS connection (``nc``, its JetStream context ``js``) and the bus's state.

    ``on_closed`` is called when nats-py closes the connection for good, after the state
    became CLOSED (the bus wakes its publishers with it so that they end)."""

    def __init__(
        self,
        url: str,
        *,
        client_name: str,
        connect_timeout_s: float,
        counters: BusCounters,
        on_closed: Callable[[], None],
    ) -> None:
        self.url = url
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self._client_name = client_name
        self._connect_timeout_s = connect_timeout_s
        self._counters = counters
        self._on_closed_for_good = on_closed
        self._state = BusState.NEW
        self._connected = asyncio.Event()
        self._down_since_s = 0.0
        self._last_error: BaseException | None = None

    @property
    def state(self) -> BusState:
        return self._state

    async def wait_connected(self) -> None:
        await self._connected.wait()

    def set_state(self, new: BusState) -> None:
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
                self._counters.positions_unshared,
            )
        else:
            logger.info("bus: %s -> %s", old, new)

    async def connect(self) -> None:
        nc = Client()
        self.nc = nc
        servers = [one.strip() for one in self.url.split(",") if one.strip()]
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                await nc.connect(
                    servers,
                    name=self._client_name,
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
        self.js = nc.jetstream(timeout=ACK_TIMEOUT_S)

    async def close(self) -> None:
        nc, self.nc = self.nc, None
        self.js = None
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
            self.set_state(BusState.DISCONNECTED)

    async def _on_reconnected(self) -> None:
        if self._state is BusState.DISCONNECTED:
            self.set_state(BusState.CONNECTED)

    async def _on_closed(self) -> None:
        if self._state in (BusState.CONNECTED, BusState.DISCONNECTED):
            logger.error(
                "bus: the NATS connection to %s closed for good (%s); positions and events "
                "now reach only this instance's viewers",
                redacted(self.url),
                self._last_error,
            )
            self.set_state(BusState.CLOSED)
            self._on_closed_for_good()
