"""When the desk looks at the queue of waiting calls again.

The queue itself is in the store (incidents ``queued``, and ``new`` ones a crash left
undecided). :class:`DispatchQueue` runs as one task of the service: it serves the queue
after a flight ends (once the drone has settled) and whenever the fleet's readiness
changes (a link back, a drone armable again, the wind dropping), checked every
:data:`QUEUE_SWEEP_S`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

logger = logging.getLogger(__name__)

QUEUE_SWEEP_S = 5.0
SETTLE_S = 1.0  # after a flight: let a landed drone's state settle (disarmed, on ground)


class DispatchQueue:
    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def drone_free(self, drone_id: str) -> None:
        """A flight ended: look at the queue again once the drone has settled."""
        self._changed.set()

    def look_again(self) -> None:
        """Something a decision rests on changed (a dock's hold lifted): serve the queue."""
        self._changed.set()

    async def run(
        self, serve: Callable[[], Awaitable[None]], readiness: Callable[[], Hashable]
    ) -> None:
        """Call ``serve`` after a flight ends, or when ``readiness()`` differs from the
        last time it was served. Never returns on its own; a failed ``serve`` is logged
        and tried again later."""
        last: Hashable = ()
        while True:
            try:
                async with asyncio.timeout(QUEUE_SWEEP_S):
                    await self._changed.wait()
                await asyncio.sleep(SETTLE_S)
            except TimeoutError:
                pass
            triggered = self._changed.is_set()
            self._changed.clear()
            now = readiness()
            if not triggered and now == last:
                continue
            last = now
            try:
                await serve()
            except Exception:
                logger.exception("serving the queue failed; trying again later")
