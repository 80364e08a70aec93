"""The link worker's outbox over a real pipe: while the reader is behind, each drone's
states coalesce to the latest, other messages keep their order, and the last state read
is the newest one."""

from __future__ import annotations

import asyncio
import os

from dfr.fleet.link_outbox import Outbox, shrink_pipe
from dfr.fleet.link_wire import parse


async def test_states_coalesce_while_the_reader_is_behind() -> None:
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()
    shrink_pipe(write_fd)
    with os.fdopen(write_fd, "wb", buffering=0) as write_file:
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, write_file
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
        outbox = Outbox(writer)
        sender = asyncio.create_task(outbox.run(), name="outbox")
        try:
            padding = "x" * 200  # a state is a few hundred bytes: the pipe fills fast
            for n in range(2000):
                outbox.state("a", {"k": "state", "d": "a", "n": n, "pad": padding})
                outbox.state("b", {"k": "state", "d": "b", "n": n, "pad": padding})
                if n == 1000:
                    outbox.other({"k": "text", "d": "a", "message": "Takeoff detected"})
                await asyncio.sleep(0)  # the sender gets its turns, the reader none
            reader = asyncio.StreamReader()
            await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb")
            )
            got: list[dict[str, object]] = []
            async with asyncio.timeout(10):
                while {("a", 1999), ("b", 1999)} - {(m.get("d"), m.get("n")) for m in got}:
                    got.append(parse(await reader.readline()))
            a_states = [m["n"] for m in got if m["k"] == "state" and m["d"] == "a"]
            assert a_states[-1] == 1999 and a_states == sorted(a_states)
            assert len(got) < 200, len(got)  # 4001 queued; the pipe held a few
            assert outbox.coalesced > 3000
            text_at = next(i for i, m in enumerate(got) if m["k"] == "text")
            before = [m["n"] for m in got[:text_at] if m["k"] == "state" and m["d"] == "a"]
            after = [m["n"] for m in got[text_at:] if m["k"] == "state" and m["d"] == "a"]
            assert all(int(n) <= 1000 for n in before) and all(int(n) > 1000 for n in after)
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            transport.close()
