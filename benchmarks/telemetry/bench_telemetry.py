"""Telemetry benchmark: vehicle position -> viewer websocket, with many viewers.

    .venv/bin/python -m benchmarks.telemetry.bench_telemetry            # the full set, ~4 min
    .venv/bin/python -m benchmarks.telemetry.bench_telemetry --cases inject,naive \
        --drones 10 --viewers 50 --duration-s 5                          # quick

Three processes per case: this one (the service under real uvicorn, or the peer), a
viewer process (``benchmarks/telemetry/viewers.py``: N websocket clients), and for the
``sitl`` case a fleet process (``benchmarks/telemetry/fleet_proc.py``). Cases:

``sitl``    the simulated fleet (vehicles on their docks, GLOBAL_POSITION_INT at the
            service's ``position_rate_hz``) -> 50 real MAVSDK links -> ``DroneLink``
            fold -> ``EventBus`` -> ``/ws/telemetry`` -> viewers. The vehicle stamps its
            send time into the message (:mod:`benchmarks.telemetry.stamp`), so the
            latency is vehicle send -> viewer receipt; the message's ``t`` (the link's
            fold time) splits it into send -> fold and fold -> viewer.
``inject``  the same service with synthetic states handed to ``_on_drone_state`` at
            drones x rate per second (no MAVSDK traffic): the fan-out alone.
``naive``   the peer, fed by the same injector: one unbounded ``asyncio.Queue`` per
            viewer and ``json.dumps`` per viewer per message, same uvicorn.
``batched`` a prototype of a proposed change (``benchmarks/telemetry/batched.py``):
            the service's ``EventBus`` and latest-value queues, but each viewer's
            pending batch sent as one frame (a JSON array), same injector.

Reported per case: latency p50/p95/p99 (from every ``--sample-every``-th viewer),
positions delivered per second over all viewers, the share delivered (the rest
coalesced by the bus's latest-value queues, or still queued for the naive peer), and
CPU of each process from ``/proc/<pid>/stat``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks.dispatch.bench_dispatch import ready_state, set_ready
from benchmarks.dispatch.scene import write_scene
from benchmarks.dispatch.served import cpu_seconds, free_udp_base, serve_app, served
from benchmarks.dispatch.stats import pct
from benchmarks.telemetry.batched import BatchedHub, batched_app
from benchmarks.telemetry.naive import NaiveHub, naive_app
from benchmarks.telemetry.stamp import age_s, stamp_alt_m
from dfr.bus import Message, Topic
from dfr.config import Settings
from dfr.fleet.drone_state import DroneState
from dfr.service import Service, iso_utc
from dfr.site import Site, load_site

logger = logging.getLogger(__name__)

TOKEN = "bench-telemetry-pilot-token-0123456789"
CASES = ("sitl", "inject", "naive", "batched")
ROOT = Path(__file__).resolve().parents[2]


@dataclass(slots=True)
class Probe:
    """What the service process sees during the measuring window."""

    window_open: bool = False
    published: int = 0
    fold_lag_s: list[float] = field(default_factory=list)  # vehicle send -> link fold


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: str
    drones: int
    rate_hz: float
    viewers: dict[str, Any]
    published_per_s: float
    cpu_cores: dict[str, float]
    fold_lag_s: list[float]
    note: str = ""
    load_1min: float = field(default_factory=lambda: os.getloadavg()[0])


async def inject(
    publish: Callable[[DroneState], None], states: list[DroneState], rate_hz: float, slots: int = 10
) -> None:
    """Each drone's state ``rate_hz`` times a second, drones spread over ``slots`` phases;
    ``updated_at`` and the stamped ``alt_rel_m`` are the injection time."""
    period_s = 1.0 / (rate_hz * slots)
    loop = asyncio.get_running_loop()
    next_s = loop.time()
    slot = 0
    while True:
        now = time.time()
        at = datetime.fromtimestamp(now, UTC)
        for state in states[slot::slots]:
            publish(replace(state, updated_at=at, alt_rel_m=stamp_alt_m(now)))
        slot = (slot + 1) % slots
        next_s += period_s
        delay = next_s - loop.time()
        if delay < -period_s:  # behind: do not burst to catch up
            next_s = loop.time()
            delay = 0.0
        await asyncio.sleep(max(0.0, delay))


def naive_body(state: DroneState) -> dict[str, Any]:
    return {
        "type": "position", "drone_id": state.drone_id,
        "t": iso_utc(state.updated_at or datetime.now(UTC)),
        "lat": round(state.lat_deg, 7), "lon": round(state.lon_deg, 7),
        "alt_amsl_m": round(state.alt_amsl_m, 2), "alt_rel_m": round(state.alt_rel_m, 2),
        "heading_deg": round(state.heading_deg, 1),
        "ground_speed_mps": round(state.ground_speed_mps, 2),
        "battery_pct": round(state.battery_pct, 1), "mode": state.mode, "armed": state.armed,
        "landed": state.landed.value, "link": state.link.value, "flight_id": None,
        "phase": "docked",
    }  # fmt: skip


def count_telemetry(service: Service, probe: Probe) -> None:
    """Count the positions the service publishes (instance attribute over the method)."""
    publish = service.bus.publish

    def counted(message: Message) -> None:
        if probe.window_open and message.topic is Topic.TELEMETRY:
            probe.published += 1
        publish(message)

    service.bus.publish = counted  # type: ignore[method-assign]


def watch_folds(service: Service, probe: Probe) -> None:
    """Record vehicle send -> the service has it, for every stamped position."""
    for link in service.links.values():
        on_state = link._on_state

        def folded(state: DroneState, on_state: Callable[[DroneState], None] = on_state) -> None:
            # at the service's receipt (a link worker folds in its own process, earlier)
            if probe.window_open and state.updated_at is not None and state.alt_rel_m > 0:
                probe.fold_lag_s.append(age_s(state.alt_rel_m, time.time()))
            on_state(state)

        link._on_state = folded


async def start_process(args: list[str], name: str, timeout_s: float) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    async with asyncio.timeout(timeout_s):
        line = await proc.stdout.readline()
    if not line.startswith(b"ready"):
        raise RuntimeError(f"{name} did not start: {line!r}")
    return proc


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


@asynccontextmanager
async def process(
    args: list[str], name: str, timeout_s: float
) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await start_process(args, name, timeout_s)
    try:
        yield proc
    finally:
        await stop_process(proc)


def settings_for(tmp: Path, rate_hz: float, link_worker_drones: int = 8) -> Settings:
    return Settings(
        _env_file=None, data_dir=tmp / "var", port=0, video=False, api_token=SecretStr(TOKEN),
        position_rate_hz=rate_hz, connect_timeout_s=60.0, link_worker_drones=link_worker_drones,
    )  # fmt: skip


async def measure(
    base_url: str,
    probe: Probe,
    pids: dict[str, int],
    args: argparse.Namespace,
    published: Callable[[], int],
) -> tuple[dict[str, Any], float, dict[str, float]]:
    ws_url = base_url.replace("http://", "ws://") + f"/ws/telemetry?token={TOKEN}"
    if args.batch:
        ws_url += "&batch=1"  # the service's opt-in: one JSON array per viewer wake-up
    viewer_args = [
        "-m", "benchmarks.telemetry.viewers", "--url", ws_url, "--count", str(args.viewers),
        "--warmup-s", str(args.warmup_s), "--duration-s", str(args.duration_s),
        "--sample-every", str(args.sample_every),
    ] + (["--deflate"] if args.deflate else []) + (
        ["--follow-drones", str(args.drones), "--consoles", str(args.consoles)] if args.follow else []
    )  # fmt: skip
    async with process(viewer_args, "viewers", timeout_s=180) as viewers:
        pids = pids | {"service": os.getpid()}  # the viewers report their own CPU
        await asyncio.sleep(args.warmup_s)
        cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        published0 = published()
        wall0 = time.perf_counter()
        probe.window_open = True
        await asyncio.sleep(args.duration_s)
        probe.window_open = False
        wall_s = time.perf_counter() - wall0
        cpu = {name: (cpu_seconds(pid) - cpu0[name]) / wall_s for name, pid in pids.items()}
        published_per_s = (published() - published0) / wall_s
        assert viewers.stdout is not None
        async with asyncio.timeout(args.duration_s + 120):
            line = await viewers.stdout.readline()
        if not line:
            raise RuntimeError("the viewer process ended without a result")
        result = json.loads(line)
        cpu["viewers"] = result["cpu_cores"]
        return result, published_per_s, cpu


async def run_case(case: str, args: argparse.Namespace, tmp: Path) -> CaseResult:
    base = free_udp_base(200)
    site_dir = tmp / f"site-{case}"
    write_scene(
        site_dir, n_drones=args.drones, n_zones=0, n_calls=0, size_m=20_000.0, udp_base=base
    )
    site = load_site(site_dir)
    settings = settings_for(tmp / case, args.rate_hz, args.link_worker_drones)
    probe = Probe()
    async with AsyncExitStack() as stack:
        pids: dict[str, int] = {}
        if case in ("naive", "batched"):
            hub: NaiveHub | BatchedHub
            if case == "naive":
                hub = NaiveHub()
                app = naive_app(hub)
            else:
                hub = BatchedHub()
                app = batched_app(hub)
            base_url = await stack.enter_async_context(serve_app(app))
            states = synthetic_states(site)

            def publish_naive(state: DroneState) -> None:
                if probe.window_open:
                    probe.published += 1
                hub.publish(naive_body(state))

            group = await stack.enter_async_context(asyncio.TaskGroup())
            injector = group.create_task(
                inject(publish_naive, states, args.rate_hz), name="bench: inject"
            )
            stack.callback(injector.cancel)
            viewers, published_per_s, cpu = await measure(
                base_url, probe, pids, args, lambda: probe.published
            )
            return CaseResult(case, args.drones, args.rate_hz, viewers, published_per_s, cpu, [])
        if case == "sitl":
            fleet_args = [
                "-m", "benchmarks.telemetry.fleet_proc", "--site", str(site_dir),
                "--api-remote-base", str(base), "--api-local-base", str(base + 50),
                "--gcs-local-base", str(base + 100), "--gcs-remote", str(base + 150),
                "--duration-s", str(args.warmup_s + args.duration_s + 240),
            ]  # fmt: skip
            fleet = await stack.enter_async_context(process(fleet_args, "fleet", timeout_s=60))
            pids["fleet"] = fleet.pid
        service, base_url = await stack.enter_async_context(served(settings, site))
        count_telemetry(service, probe)
        note = ""
        if case == "sitl":
            started = time.perf_counter()
            await asyncio.gather(*(link.wait_connected(120.0) for link in service.links.values()))
            note = f"{len(service.links)} MAVSDK links up in {time.perf_counter() - started:.1f} s"
            for worker in service.link_workers:  # their CPU counts too
                if worker.pid is not None:
                    pids[f"link worker {worker.index}"] = worker.pid
            watch_folds(service, probe)
        else:
            set_ready(service)
            group = await stack.enter_async_context(asyncio.TaskGroup())
            injector = group.create_task(
                inject(service._on_drone_state, list(service.states().values()), args.rate_hz),
                name="bench: inject",
            )
            stack.callback(injector.cancel)
        viewers, published_per_s, cpu = await measure(
            base_url, probe, pids, args, lambda: probe.published
        )
        return CaseResult(
            case, args.drones, args.rate_hz, viewers, published_per_s, cpu, probe.fold_lag_s, note
        )


def synthetic_states(site: Site) -> list[DroneState]:
    return [ready_state(d.id, site.dock_of(d)) for d in site.drones]


def fmt_q(q: dict[str, float]) -> str:
    return f"{q['p50_ms']:.0f} / {q['p95_ms']:.0f} / {q['p99_ms']:.0f}"


def report(results: list[CaseResult]) -> str:
    lines = [
        "| case | drones x Hz | viewers | source -> viewer p50 / p95 / p99 ms | max ms "
        "| fold -> viewer p95 ms | send -> fold p50 / p95 ms | published /s | delivered /s "
        "| frames /s "
        "| delivered share | CPU service | CPU fleet | CPU viewers |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        v = r.viewers
        expected = r.published_per_s * v["viewers"]
        share = v["per_s"] / expected if expected else float("nan")
        fold = (
            f"{pct(r.fold_lag_s, 0.5) * 1e3:.1f} / {pct(r.fold_lag_s, 0.95) * 1e3:.1f}"
            if r.fold_lag_s
            else "-"
        )
        lines.append(
            f"| {r.case} | {r.drones} x {r.rate_hz:g} | {v['viewers']} "
            f"| {fmt_q(v['send_to_viewer'])} "
            f"| {v['send_to_viewer']['max_ms']:.0f} | {v['fold_to_viewer']['p95_ms']:.0f} | {fold} "
            f"| {r.published_per_s:.0f} | {v['per_s']:.0f} | {v.get('frames_per_s', 0):.0f} "
            f"| {share:.2f} "
            f"| {r.cpu_cores.get('service', 0):.2f} | "
            + (f"{r.cpu_cores['fleet']:.2f}" if "fleet" in r.cpu_cores else "-")
            + f" | {r.cpu_cores.get('viewers', 0):.2f} |"
        )
    notes = [f"{r.case}/{r.viewers['viewers']}: {r.note}" for r in results if r.note]
    notes.append(
        "load average (1 min) at the end of each case: "
        + ", ".join(f"{r.case}/{r.viewers['viewers']} {r.load_1min:.1f}" for r in results)
    )
    closed = [
        f"{r.case}: {r.viewers['closed_early']}" for r in results if r.viewers["closed_early"]
    ]
    if closed:
        notes.append("viewers closed by the server during the run: " + ", ".join(closed))
    by = {(r.case, r.viewers["viewers"]): r for r in results}
    for (case, n), r in by.items():
        peer = by.get(("naive", n))
        if case == "naive" or peer is None:
            continue
        ours = r.viewers["send_to_viewer"]["p95_ms"]
        theirs = peer.viewers["send_to_viewer"]["p95_ms"]
        notes.append(
            f"{case} vs naive, {n} viewers: p95 {ours:.0f} vs {theirs:.0f} ms "
            f"({theirs / ours:.1f}x), service CPU {r.cpu_cores['service']:.2f} vs "
            f"{peer.cpu_cores['service']:.2f} cores"
        )
    return "\n".join([*lines, "", *notes])


async def run(args: argparse.Namespace) -> list[CaseResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="dfr-bench-telemetry-") as tmp:
        for n_viewers in args.viewer_counts:
            for case in args.cases:
                case_args = argparse.Namespace(**(vars(args) | {"viewers": n_viewers}))
                print(
                    f"case {case}: {args.drones} drones x {args.rate_hz:g} Hz, "
                    f"{n_viewers} viewers ...",
                    flush=True,
                )
                result = await run_case(case, case_args, Path(tmp))
                print(report([result]).splitlines()[2], flush=True)
                results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma list of {CASES}")
    parser.add_argument("--drones", type=int, default=50)
    parser.add_argument("--rate-hz", type=float, default=10.0)
    parser.add_argument("--viewers", default="500", help="comma list of viewer counts")
    parser.add_argument("--warmup-s", type=float, default=4.0)
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument(
        "--sample-every",
        type=int,
        default=10,
        help="latencies from every n-th viewer (all are counted): keeps the viewer process "
        "from being the bottleneck",
    )
    parser.add_argument(
        "--deflate", action="store_true", help="viewers negotiate permessage-deflate"
    )
    parser.add_argument(
        "--switch-interval-ms",
        type=float,
        help="sys.setswitchinterval for the service process (experiment; Python default 5 ms)",
    )
    parser.add_argument(
        "--batch", action="store_true", help="viewers ask the service for ?batch=1 frames"
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="realistic mix: --consoles viewers watch the whole fleet, the rest each follow one drone",
    )
    parser.add_argument("--consoles", type=int, default=10)
    parser.add_argument(
        "--link-worker-drones",
        type=int,
        default=8,
        help="the service's DFR_LINK_WORKER_DRONES (0: every MAVSDK link in the service's "
        "own process, as before link workers)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    args.cases = [c for c in args.cases.split(",") if c]
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; known: {CASES}")
    args.viewer_counts = [int(v) for v in args.viewers.split(",")]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.switch_interval_ms is not None:
        sys.setswitchinterval(args.switch_interval_ms / 1000.0)
    results = asyncio.run(run(args))
    print()
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps([
            {"case": r.case, "drones": r.drones, "rate_hz": r.rate_hz, "viewers": r.viewers,
             "published_per_s": r.published_per_s, "cpu_cores": r.cpu_cores, "note": r.note,
             "fold_lag_ms": [x * 1e3 for x in r.fold_lag_s]}
            for r in results
        ], indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
