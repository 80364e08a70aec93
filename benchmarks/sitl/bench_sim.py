"""Simulator benchmark: how many vehicles one core runs in real time, and how fast one
vehicle runs (targets from ARCHITECTURE.md: 20 vehicles in real time on one core, or one
vehicle at 20x speed).

The simulator (``sitl.fleet.Fleet``) runs in this process, pinned to one CPU. The ground
side runs in a child process pinned to another CPU (``benchmarks.sitl.clients``): it
drains every port, connects the real mavsdk 4.x to vehicle 0, and puts every vehicle in
the air on an orbit, so each vehicle integrates flight physics and streams telemetry
while it is measured. For each case it reports:

* ``sim/real``: simulated seconds advanced per wall second, divided by the requested
  speed factor (1.00 = keeps up exactly; below ~0.97 it falls behind);
* ``cpu/wall``: CPU seconds this process used per wall second (1.00 = one core saturated);
* ``lag p95``: the 95th percentile of event-loop lateness of a 10 ms timer, in ms;
* ``tick Hz`` / ``busy``: fleet ticks per wall second (nominal ``sitl.fleet.TICK_HZ``) and
  the fraction of wall time spent inside them. Simulated time stays right even when ticks
  come late (each tick integrates the elapsed time in sub-steps), so a tick rate under 90 %
  of nominal is what shows the core running out.

Run:  .venv/bin/python -m benchmarks.sitl.bench_sim [--duration-s 5] [--counts 1,5,10,20,40]
      [--speeds 1,5,10,20,50,100] [--cpu 0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import math
import os
import random
import socket
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a file: python benchmarks/sitl/bench_sim.py
    sys.path.insert(0, str(REPO))

HOME = (47.397742, 8.545594, 488.0)
KEEPS_UP_RATIO = 0.97
KEEPS_UP_LAG_P95_MS = 50.0
TARGET_VEHICLES = 20
TARGET_SPEED = 20.0
# Vehicle i sends its API stream to api_remote_base + i (14540 + i); from i = 10 on that
# hits PX4's GCS port 14550 and from i = 40 the vehicles' own 14580 + i. Move both remote
# ports out of the way so that any N fits (up to ~1000 vehicles).
GCS_PORT = 13550
API_REMOTE_BASE = 11540


@dataclass(frozen=True, slots=True)
class CaseResult:
    vehicles: int
    speed_factor: float
    airborne: int
    sim_over_real: float  # achieved sim speed / requested speed
    cpu_per_wall: float
    lag_p95_ms: float
    tick_hz: float  # achieved fleet ticks per wall second (nan if the fleet does not count)
    tick_busy: float  # fraction of wall time spent inside ticks
    nominal_tick_hz: float

    @property
    def keeps_up(self) -> bool:
        ticks_ok = self.tick_hz != self.tick_hz or self.tick_hz >= 0.9 * self.nominal_tick_hz
        return (
            self.sim_over_real >= KEEPS_UP_RATIO
            and self.lag_p95_ms < KEEPS_UP_LAG_P95_MS
            and self.airborne == self.vehicles
            and ticks_ok
        )


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_offset(vehicles: int) -> int:
    """A port offset (20000..40000, step 100) whose listener ports are all free."""
    rng = random.Random(os.urandom(8))
    for _ in range(50):
        offset = rng.randrange(20_000, 40_000 - vehicles, 100)
        ports = [GCS_PORT + offset] + [
            b + offset + i for b in (API_REMOTE_BASE, 14580, 18570) for i in range(vehicles)
        ]
        if all(_udp_free(p) for p in ports):
            return offset
    raise RuntimeError("no free port offset")


async def _read_until(stream: asyncio.StreamReader, predicate: Any, timeout_s: float) -> str:
    line = ""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            while True:
                raw = await stream.readline()
                if not raw:
                    break
                line = raw.decode().strip()
                if predicate(line):
                    return line
    return line


async def _loop_lag(samples: list[float], stop: asyncio.Event) -> None:
    period_s = 0.01
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + period_s
        await asyncio.sleep(period_s)
        samples.append(max(0.0, loop.time() - due) * 1000.0)


def _fleet_kwargs(fleet_cls: Any) -> dict[str, Any]:
    """Turn the simulated camera off if the fleet lets us (we measure the flight model)."""
    params = inspect.signature(fleet_cls).parameters
    for name in ("camera", "cameras", "video"):
        if name in params:
            return {name: False}
    return {}


async def run_case(
    vehicles: int, speed_factor: float, duration_s: float, clients_cpu: int | None
) -> CaseResult:
    import sitl.fleet as fleet_module
    from sitl.fleet import Fleet, PortPlan, VehicleSpec, Wind

    offset = _port_offset(vehicles)
    ports = PortPlan(gcs_remote=GCS_PORT, api_remote_base=API_REMOTE_BASE).shifted(offset)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.sitl.clients",
        "--gcs-port",
        str(ports.gcs_remote),
        "--api-base",
        str(ports.api_remote_base),
        "--vehicles",
        str(vehicles),
    ]
    if clients_cpu is not None:
        cmd += ["--cpu", str(clients_cpu)]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=REPO
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        await _read_until(proc.stdout, lambda line: line == "listening", 30.0)
        specs = [
            VehicleSpec(
                instance=i,
                home_lat_deg=HOME[0] + i * 1e-4,
                home_lon_deg=HOME[1],
                home_alt_amsl_m=HOME[2],
            )
            for i in range(vehicles)
        ]
        async with Fleet(
            specs, ports=ports, speed_factor=speed_factor, wind=Wind(), **_fleet_kwargs(Fleet)
        ) as fleet:
            last = await _read_until(
                proc.stdout, lambda line: line == f"airborne {vehicles}", 60.0 + 2.0 * vehicles
            )
            airborne = int(last.split()[1]) if last.startswith("airborne") else 0
            lag_ms: list[float] = []
            stop = asyncio.Event()
            drain = asyncio.create_task(_drain(proc.stdout), name="bench: clients stdout")
            probe = asyncio.create_task(_loop_lag(lag_ms, stop), name="bench: loop lag")
            sim0 = [v.time_s for v in fleet.vehicles]
            ticks0 = getattr(fleet, "tick_count", math.nan)
            busy0 = getattr(fleet, "tick_time_s", math.nan)
            wall0, cpu0 = time.perf_counter(), time.process_time()
            await asyncio.sleep(duration_s)
            sim1 = [v.time_s for v in fleet.vehicles]
            ticks1 = getattr(fleet, "tick_count", math.nan)
            busy1 = getattr(fleet, "tick_time_s", math.nan)
            wall1, cpu1 = time.perf_counter(), time.process_time()
            stop.set()
            await probe
            drain.cancel()
            await asyncio.gather(drain, return_exceptions=True)
        wall_s = wall1 - wall0
        sim_s = statistics.fmean(b - a for a, b in zip(sim0, sim1, strict=True))
        lag_sorted = sorted(lag_ms) or [0.0]
        return CaseResult(
            vehicles=vehicles,
            speed_factor=speed_factor,
            airborne=airborne,
            sim_over_real=sim_s / wall_s / speed_factor,
            cpu_per_wall=(cpu1 - cpu0) / wall_s,
            lag_p95_ms=lag_sorted[min(len(lag_sorted) - 1, int(0.95 * len(lag_sorted)))],
            tick_hz=(ticks1 - ticks0) / wall_s,
            tick_busy=(busy1 - busy0) / wall_s,
            nominal_tick_hz=float(getattr(fleet_module, "TICK_HZ", math.nan)),
        )
    finally:
        proc.stdin.close()
        try:
            async with asyncio.timeout(10.0):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


def _row(r: CaseResult) -> str:
    verdict = "keeps up" if r.keeps_up else "FALLS BEHIND"
    return (
        f"{r.vehicles:>8} {r.speed_factor:>7g} {r.airborne:>8} {r.sim_over_real:>8.3f} "
        f"{r.sim_over_real * r.speed_factor:>9.2f} {r.cpu_per_wall:>8.2f} "
        f"{r.lag_p95_ms:>8.1f} {r.tick_hz:>7.1f} {r.tick_busy:>6.2f}  {verdict}"
    )


HEADER = (
    f"{'vehicles':>8} {'speed':>7} {'airborne':>8} {'sim/real':>8} {'achieved':>9} "
    f"{'cpu/wall':>8} {'lag p95':>8} {'tick Hz':>7} {'busy':>6}  verdict"
)


async def main_async(args: argparse.Namespace) -> int:
    sim_cpu = args.cpu
    others = sorted(os.sched_getaffinity(0) - {sim_cpu})
    clients_cpu = others[0] if others else None
    os.sched_setaffinity(0, {sim_cpu})
    print(
        f"simulator pinned to CPU {sim_cpu}; ground clients on CPU "
        f"{clients_cpu if clients_cpu is not None else sim_cpu} "
        f"({os.cpu_count()} CPUs, other load on the machine counts against us)"
    )
    load_1m, _, _ = os.getloadavg()
    print(f"load average (1 min) at start: {load_1m:.2f}")
    print(f"{args.duration_s:g} s measured per case, after every vehicle is airborne\n")

    results: list[CaseResult] = []
    print("Vehicles in real time (speed 1):")
    print(HEADER)
    for n in args.counts:
        r = await run_case(n, 1.0, args.duration_s, clients_cpu)
        results.append(r)
        print(_row(r), flush=True)
    print("\nOne vehicle, faster than real time:")
    print(HEADER)
    for speed in args.speeds:
        r = await run_case(1, speed, args.duration_s, clients_cpu)
        results.append(r)
        print(_row(r), flush=True)

    fleet_ok = [r.vehicles for r in results if r.speed_factor == 1.0 and r.keeps_up]
    speed_ok = [r.speed_factor for r in results if r.vehicles == 1 and r.keeps_up]
    best_n = max(fleet_ok, default=0)
    best_speed = max(speed_ok, default=0.0)
    print("\nVerdict:")
    print(
        f"  vehicles in real time on one core: {best_n} (target {TARGET_VEHICLES}) -> "
        f"{'MET' if best_n >= TARGET_VEHICLES else 'not met'}"
    )
    print(
        f"  one vehicle, highest speed factor kept: {best_speed:g}x (target {TARGET_SPEED:g}x) -> "
        f"{'MET' if best_speed >= TARGET_SPEED else 'not met'}"
    )
    met = best_n >= TARGET_VEHICLES or best_speed >= TARGET_SPEED
    print(
        f"  simulator target (20 vehicles real time OR 1 vehicle at 20x): "
        f"{'MET' if met else 'NOT MET'}"
    )
    return 0


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="simulator real-time / speed-factor benchmark")
    parser.add_argument("--duration-s", type=float, default=5.0, help="measured seconds per case")
    parser.add_argument("--counts", type=_ints, default=[1, 5, 10, 20, 40])
    parser.add_argument("--speeds", type=_floats, default=[1, 5, 10, 20, 50, 100])
    parser.add_argument(
        "--cpu",
        type=int,
        default=min(os.sched_getaffinity(0)),
        help="CPU the simulator is pinned to",
    )
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
