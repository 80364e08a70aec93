"""The site's JetStream events stream: made at start, brought to the configured limits,
and made again when a server lost it (:mod:`dfr.bus_wire` has its configuration)."""

from __future__ import annotations

import logging

import nats.errors
import nats.js.errors

from dfr.bus_nats.connection import NatsConnection
from dfr.bus_wire import Subjects, redacted
from dfr.errors import ConfigError

logger = logging.getLogger(__name__)


class EventsStream:
    """The stream ``subjects.stream`` on ``connection``, kept ``max_age_s`` up to
    ``max_bytes``."""

    def __init__(
        self, connection: NatsConnection, subjects: Subjects, *, max_age_s: float, max_bytes: int
    ) -> None:
        self._connection = connection
        self.subjects = subjects
        self._events_max_age_s = max_age_s
        self._events_max_bytes = max_bytes

    async def ensure(self) -> None:
        """Make the stream, or bring an existing one to these limits."""
        js = self._connection.js
        assert js is not None
        url = self._connection.url
        config = self.subjects.stream_config(
            max_age_s=self._events_max_age_s, max_bytes=self._events_max_bytes
        )
        try:
            try:
                await js.add_stream(config)
            except nats.js.errors.APIError as exc:
                if exc.err_code != 10058:  # "name already in use with a different config"
                    raise
                await js.update_stream(config)
        except (nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError) as exc:
            raise ConfigError(
                f"the event bus: the NATS server at {redacted(url)} (DFR_BUS_URL) has no "
                "JetStream, which keeps the events: start it with -js (nats-server -js -sd DIR) "
                "or enable jetstream in its configuration"
            ) from exc
        except (nats.errors.Error, OSError) as exc:
            raise ConfigError(
                f"the event bus: cannot set up the stream {self.subjects.stream} on NATS at "
                f"{redacted(url)} (DFR_BUS_URL): {type(exc).__name__}: {exc}"
            ) from exc

    async def remake(self) -> None:
        """No stream answered: a server that lost its store; make the stream again."""
        try:
            await self.ensure()
        except ConfigError as exc:
            logger.debug("bus: %s", exc)
