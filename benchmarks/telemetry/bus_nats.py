"""Bus benchmark: position fan-out through the in-process bus against the NATS bus.

    .venv/bin/python -m benchmarks.telemetry.bus_nats                    # ~1 min
    .venv/bin/python -m benchmarks.telemetry.bus_nats --subscribers 10 --duration-s 3

``drones`` x ``rate-hz`` positions a second (the service's message, pre-encoded JSON)
are published and read by N local subscribers (latest-value queues, whole fleet, like
RTCC consoles; no websockets: the bus alone). Cases:

``in-process``   :class:`dfr.bus.EventBus`; publisher and subscribers in one process.
``nats-local``   :class:`dfr.bus_nats.NatsBus`, publisher and subscribers in one
                 process: this instance's own viewers (delivered locally) plus the cost of
                 sending every position to NATS.
``nats-remote``  the publisher is another instance (a child process with its own
                 NatsBus); the subscribers are on this process's NatsBus: one NATS
                 subscription, fanned out locally. Latency is publish (child) -> read
                 (here), carried as wall-clock time across the processes.

A real nats-server (the dev extra's, tests/bus/nats_server.py) runs on 127.0.0.1 for
the NATS cases. Reported per case: latency p50/p95/p99 from every ``--sample-every``-th
subscriber, positions published and delivered a second, CPU (cores) of this process,
the publisher child and nats-server, and each NATS case's p95 as a ratio of
``in-process`` at the same N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.dispatch.served import cpu_seconds
from benchmarks.dispatch.stats import pct
from dfr.bus import Bus, EventBus, Message, Topic, make_message
from dfr.bus_nats import NatsBus

CASES = ("in-process", "nats-local", "nats-remote")
ROOT = Path(__file__).resolve().parents[2]


@dataclass(slots=True)
class Window:
    """What the subscribers saw while the measuring window was open."""

    open: bool = False
    latencies_ms: list[float] = field(default_factory=list)
    delivered: int = 0
    published: int = 0


def position(drone: int, n: int) -> dict[str, Any]:
    """A position body shaped like :func:`dfr.messages.position_body`'s."""
    return {
        "type": "position", "drone_id": f"d{drone:03d}", "t": "2026-12-01T12:00:00.000000Z",
        "lat": 32.7555 + drone * 1e-4, "lon": -97.3308 + n * 1e-6, "alt_amsl_m": 250.5,
        "alt_rel_m": 60.0, "heading_deg": 91.5, "ground_speed_mps": 12.25, "battery_pct": 87.5,
        "mode": "MISSION", "armed": True, "landed": "in_air", "link": "up",
        "flight_id": f"fl-{drone:03d}", "phase": "enroute",
    }  # fmt: skip


async def inject(
    publish: Callable[[Message], None], drones: int, rate_hz: float, count: Callable[[], None]
) -> None:
    """Each drone ``rate_hz`` times a second, the drones spread over 10 slots."""
    slots = 10
    period_s = 1.0 / (rate_hz * slots)
    loop = asyncio.get_running_loop()
    next_s = loop.time()
    slot = n = 0
    while True:
        for drone in range(slot, drones, slots):
            publish(
                make_message(Topic.TELEMETRY, position(drone, n), published_ns=time.monotonic_ns())
            )
            count()
        n += 1
        slot = (slot + 1) % slots
        next_s += period_s
        delay = next_s - loop.time()
        if delay < -period_s:  # behind: do not burst to catch up
            next_s = loop.time()
            delay = 0.0
        await asyncio.sleep(max(0.0, delay))


async def read(bus: Bus, window: Window, sampled: bool) -> None:
    sub = bus.subscribe(Topic.TELEMETRY, latest_only=True)
    while True:
        batch = await sub.get_batch()
        if not window.open:
            continue
        window.delivered += len(batch)
        if sampled:
            now_ns = time.monotonic_ns()
            window.latencies_ms.extend((now_ns - m.published_ns) / 1e6 for m in batch)


def spawner(tg: asyncio.TaskGroup) -> Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]]:
    def spawn(coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        return tg.create_task(coro, name=name)

    return spawn


async def publisher_main(args: argparse.Namespace) -> None:
    """The child: another instance publishing the fleet's positions for ``duration_s``."""
    published = 0

    def count() -> None:
        nonlocal published
        published += 1

    bus = NatsBus(args.publisher, site=args.site)
    async with asyncio.TaskGroup() as tg:
        await bus.start(spawner(tg))
        print("ready", flush=True)
        injector = tg.create_task(
            inject(bus.publish, args.drones, args.rate_hz, count), name="bench: inject"
        )
        await asyncio.sleep(args.duration_s)
        injector.cancel()
        await bus.aclose()
    print(json.dumps({"published": published}), flush=True)


async def run_case(
    case: str, subscribers: int, args: argparse.Namespace, nats_url: str, nats_pid: int
) -> dict[str, Any]:
    window = Window()
    site = f"bench-{uuid.uuid4().hex[:8]}"
    bus: Bus = EventBus() if case == "in-process" else NatsBus(nats_url, site=site)
    child: asyncio.subprocess.Process | None = None
    total_s = args.warmup_s + args.duration_s

    def count() -> None:
        if window.open:
            window.published += 1

    async with asyncio.TaskGroup() as tg:
        await bus.start(spawner(tg))
        readers = [
            tg.create_task(read(bus, window, i % args.sample_every == 0), name=f"bench: sub {i}")
            for i in range(subscribers)
        ]
        if case == "nats-remote":
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.telemetry.bus_nats", "--publisher", nats_url,
                "--site", site, "--drones", str(args.drones), "--rate-hz", str(args.rate_hz),
                "--duration-s", str(total_s + 1.0),
                cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert child.stdout is not None
            assert (await child.stdout.readline()).strip() == b"ready"
            injector = None
        else:
            injector = tg.create_task(
                inject(bus.publish, args.drones, args.rate_hz, count), name="bench: inject"
            )
        await asyncio.sleep(args.warmup_s)
        pids = {"this": os.getpid(), "nats-server": nats_pid}
        if child is not None:
            pids["publisher"] = child.pid
        cpu0 = {
            name: cpu_seconds(pid)
            for name, pid in pids.items()
            if case != "in-process" or name == "this"
        }
        t0 = time.monotonic()
        window.open = True
        await asyncio.sleep(args.duration_s)
        window.open = False
        wall_s = time.monotonic() - t0
        cpu = {name: (cpu_seconds(pids[name]) - s) / wall_s for name, s in cpu0.items()}
        if injector is not None:
            injector.cancel()
        published_s = window.published / wall_s
        if child is not None:
            assert child.stdout is not None
            out = json.loads((await child.stdout.readline()).decode())
            await child.wait()
            published_s = out["published"] / (total_s + 1.0)
        for reader in readers:
            reader.cancel()
        await bus.aclose()
    lat = window.latencies_ms
    return {
        "case": case,
        "subscribers": subscribers,
        "p50_ms": pct(lat, 0.50),
        "p95_ms": pct(lat, 0.95),
        "p99_ms": pct(lat, 0.99),
        "max_ms": max(lat) if lat else float("nan"),
        "published_per_s": published_s,
        "delivered_per_s": window.delivered / wall_s,
        "cpu": cpu,
        "load_1min": os.getloadavg()[0],
    }


def table(results: list[dict[str, Any]]) -> str:
    base = {r["subscribers"]: r["p95_ms"] for r in results if r["case"] == "in-process"}
    lines = [
        "| case | subscribers | p50 / p95 / p99 ms | max ms | p95 vs in-process | published /s "
        "| delivered /s | CPU this / publisher / nats-server | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r["p95_ms"] / base[r["subscribers"]] if r["subscribers"] in base else float("nan")
        cpu = r["cpu"]
        cpus = " / ".join(
            f"{cpu[k]:.2f}" if k in cpu else "-" for k in ("this", "publisher", "nats-server")
        )
        lines.append(
            f"| {r['case']} | {r['subscribers']} | {r['p50_ms']:.2f} / {r['p95_ms']:.2f} / "
            f"{r['p99_ms']:.2f} | {r['max_ms']:.1f} | {ratio:.1f}x | {r['published_per_s']:.0f} "
            f"| {r['delivered_per_s']:.0f} | {cpus} | {r['load_1min']:.1f} |"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    from tests.bus.nats_server import running_nats_server  # the dev extra's nats-server

    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        raise SystemExit(f"unknown cases {sorted(unknown)}; choose from {', '.join(CASES)}")
    results = []
    with tempfile.TemporaryDirectory() as tmp, running_nats_server(Path(tmp)) as server:
        pid = server.pid
        for subscribers in [int(n) for n in args.subscribers.split(",")]:
            for case in cases:
                result = await run_case(case, subscribers, args, server.url, pid)
                results.append(result)
                print(
                    f"{case:12s} {subscribers:4d} subs: p95 {result['p95_ms']:.2f} ms, "
                    f"{result['delivered_per_s']:.0f} delivered/s",
                    file=sys.stderr,
                    flush=True,
                )
    print(
        f"\n{args.drones} drones x {args.rate_hz:g} Hz, {args.duration_s:g} s per case "
        f"(latency from every {args.sample_every}th subscriber)\n"
    )
    print(table(results))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--drones", type=int, default=50)
    parser.add_argument("--rate-hz", type=float, default=10.0)
    parser.add_argument("--subscribers", default="10,100,500")
    parser.add_argument("--duration-s", type=float, default=5.0)
    parser.add_argument("--warmup-s", type=float, default=1.5)
    parser.add_argument("--sample-every", type=int, default=10)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--publisher", help=argparse.SUPPRESS)  # the child: the NATS URL
    parser.add_argument("--site", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        asyncio.run(publisher_main(args))
    else:
        results = asyncio.run(main_async(args))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
