"""The benchmark's viewer process: many websocket clients of ``/ws/telemetry``.

    python -m benchmarks.telemetry.viewers --url ws://127.0.0.1:P/ws/telemetry?token=T \
        --count 500 --warmup-s 3 --duration-s 10

Opens ``--count`` connections (websockets client, one asyncio loop), prints ``ready``,
waits ``--warmup-s``, then for ``--duration-s`` records for every position received:
receipt wall time minus the message's ``t`` (the service's fold time) and minus the
send time stamped in ``alt_rel_m`` (:mod:`benchmarks.telemetry.stamp`). Prints one
JSON line with the samples' percentiles, counts and this process's CPU, then exits.
Latencies are sampled on every ``--sample-every``-th viewer; counts on all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from array import array
from datetime import datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from benchmarks.dispatch.served import cpu_seconds
from benchmarks.dispatch.stats import pct
from benchmarks.telemetry.stamp import age_s

T_KEY = '"t":'
ALT_KEY = '"alt_rel_m":'


def field_text(text: str, key: str) -> str | None:
    """The raw JSON value after ``key`` (our compact JSON or json.dumps' default spacing)."""
    i = text.find(key)
    if i < 0:
        return None
    start = i + len(key)
    end = text.find(",", start)
    return text[start : end if end >= 0 else len(text) - 1].strip().strip('"')


class Window:
    def __init__(self) -> None:
        self.open = False
        self.received = 0
        self.frames = 0
        self.fold_age_s = array("d")
        self.send_age_s = array("d")
        self.closed_early = 0


async def view(ws: ClientConnection, window: Window, sample: bool) -> None:
    try:
        async for text in ws:
            if not window.open:
                continue
            now = time.time()
            if not isinstance(text, str):
                continue
            if text.startswith("["):  # a batch (the batched prototype): one frame, many positions
                bodies = json.loads(text)
                window.received += len(bodies)
                window.frames += 1
                if sample:
                    for body in bodies:
                        window.fold_age_s.append(
                            now - datetime.fromisoformat(body["t"]).timestamp()
                        )
                        window.send_age_s.append(age_s(body["alt_rel_m"], now))
                continue
            window.received += 1
            window.frames += 1
            if not sample:
                continue
            t = field_text(text, T_KEY)
            if t:
                window.fold_age_s.append(now - datetime.fromisoformat(t).timestamp())
            alt = field_text(text, ALT_KEY)
            if alt and alt != "null":
                window.send_age_s.append(age_s(float(alt), now))
    except ConnectionClosed:
        window.closed_early += 1


def url_of(args: argparse.Namespace, i: int) -> str:
    """Viewer i's URL: with --follow-drones, the first --consoles viewers watch the whole
    fleet (RTCC consoles) and the others each follow one drone (an officer's viewer)."""
    if not args.follow_drones or i < args.consoles:
        return str(args.url)
    return f"{args.url}&drone_id=uav{(i - args.consoles) % args.follow_drones}"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    window = Window()
    compression = "deflate" if args.deflate else None
    async with contextlib.AsyncExitStack() as stack:
        sockets: list[ClientConnection] = []
        connect_started = time.perf_counter()
        for first in range(0, args.count, 50):
            batch = [
                connect(url_of(args, i), compression=compression, max_queue=None,
                        ping_interval=None, open_timeout=60)
                for i in range(first, min(args.count, first + 50))
            ]  # fmt: skip
            sockets.extend(await asyncio.gather(*(stack.enter_async_context(c) for c in batch)))
        connect_s = time.perf_counter() - connect_started
        print("ready", flush=True)
        async with asyncio.TaskGroup() as tg:
            for i, ws in enumerate(sockets):
                tg.create_task(view(ws, window, i % args.sample_every == 0), name=f"viewer {i}")
            await asyncio.sleep(args.warmup_s)
            cpu0, wall0 = cpu_seconds(os.getpid()), time.perf_counter()
            window.open = True
            await asyncio.sleep(args.duration_s)
            window.open = False
            wall_s = time.perf_counter() - wall0
            cpu_s = cpu_seconds(os.getpid()) - cpu0
            await asyncio.gather(*(ws.close() for ws in sockets))

    def q(values: array[float]) -> dict[str, float]:
        ordered = list(values)
        return {f"p{int(p * 100)}_ms": pct(ordered, p) * 1e3 for p in (0.5, 0.95, 0.99)} | {
            "max_ms": max(ordered, default=float("nan")) * 1e3, "n": len(ordered)
        }  # fmt: skip

    return {
        "viewers": args.count,
        "connect_s": connect_s,
        "wall_s": wall_s,
        "received": window.received,
        "per_s": window.received / wall_s,
        "frames_per_s": window.frames / wall_s,
        "cpu_cores": cpu_s / wall_s,
        "fold_to_viewer": q(window.fold_age_s),
        "send_to_viewer": q(window.send_age_s),
        "closed_early": window.closed_early,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument(
        "--follow-drones", type=int, default=0, help="viewers each follow one of N drones"
    )
    parser.add_argument(
        "--consoles", type=int, default=0, help="with --follow-drones: this many watch all"
    )
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--sample-every", type=int, default=1)
    parser.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
