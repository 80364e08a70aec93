"""N websocket viewers of one video stream, in their own process (for the relay benchmark).

    python benchmarks/video/viewers.py ws://127.0.0.1:PORT/ws/video/drone-1 100

Prints ``ready`` once every viewer has its init segment, then reads until stdin closes and
prints one JSON line: messages, bytes and this process's CPU seconds.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys

from websockets.asyncio.client import connect


async def viewer(url: str, ready: asyncio.Event, counts: list[int], all_ready: list[int]) -> None:
    async with connect(url, max_size=None, compression=None) as ws:
        got_init = False
        async for message in ws:
            counts[0] += 1
            counts[1] += len(message)
            if isinstance(message, bytes) and not got_init:
                got_init = True
                all_ready[0] += 1
                if all_ready[0] == all_ready[1]:
                    ready.set()


async def main(url: str, count: int) -> None:
    counts = [0, 0]
    all_ready = [0, count]
    ready = asyncio.Event()
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(viewer(url, ready, counts, all_ready), name=f"viewer {i}")
            for i in range(count)
        ]
        await ready.wait()
        print("ready", flush=True)
        await stdin_closed
        for task in tasks:
            task.cancel()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {"messages": counts[0], "bytes": counts[1], "cpu_s": usage.ru_utime + usage.ru_stime}
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
