"""What a link worker has to say to its service, written in order, with each drone's
state latest-value while the pipe is busy.

A drone's state message is the whole state, so a newer one replaces its predecessor
while both wait to be written (unless something else about that drone was queued in
between: then order wins). The writer writes everything waiting in one go and waits for
the pipe to drain, whose buffer is kept small (one page in the kernel, a few KB in the
transport): when the service falls behind, states coalesce here instead of queueing
seconds deep in the pipe, and every position the service reads is a recent one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl

from dfr.fleet.link_wire import JSON, line

F_SETPIPE_SZ = 1031  # Linux fcntl: a pipe's capacity in bytes (rounded up to a page)
PIPE_BYTES = 4096
WRITE_HIGH_WATER_BYTES = 8192


def shrink_pipe(fd: int) -> None:
    """Make the pipe on ``fd`` hold one page (Linux; elsewhere it stays as it is)."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)


class Outbox:
    def __init__(self, out: asyncio.StreamWriter) -> None:
        self._out = out
        out.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER_BYTES)
        self._pending: list[bytes] = []
        self._state_at: dict[str, int] = {}  # drone id -> its state's index in _pending
        self._wake = asyncio.Event()
        self.coalesced = 0  # states replaced before they were written

    def state(self, drone_id: str, message: JSON) -> None:
        encoded = line(message)
        at = self._state_at.get(drone_id)
        if at is not None:
            self._pending[at] = encoded
            self.coalesced += 1
        else:
            self._state_at[drone_id] = len(self._pending)
            self._pending.append(encoded)
        self._wake.set()

    def other(self, message: JSON) -> None:
        drone_id = message.get("d")
        if drone_id is not None:
            self._state_at.pop(drone_id, None)  # a later state goes after this
        self._pending.append(line(message))
        self._wake.set()

    async def run(self) -> None:
        """Write what waits, then wait for the pipe; until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending, self._state_at = self._pending, [], {}
            self._out.write(b"".join(batch))
            await self._out.drain()
