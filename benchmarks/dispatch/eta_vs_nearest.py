"""Dispatch by planned ETA vs the straight-line nearest drone, flown in the simulator.

    .venv/bin/python -m benchmarks.dispatch.eta_vs_nearest                 # 500 calls
    .venv/bin/python -m benchmarks.dispatch.eta_vs_nearest --calls 40      # quick look

500 seeded calls on the Fort Worth sample site (``call_generator.py``: weighted toward
where a city's calls cluster). For each call, with every drone docked and charged:

- **ETA** (dfr): the dispatcher's choice, the best feasible candidate of the planner's
  ranking (legal route around the zones, PX4's own speed limits, energy out + on scene
  + back within the battery above the reserve);
- **nearest** (the peer, what most DFR products do): the drone whose dock is nearest in
  a straight line, whatever lies between and whatever its battery can do. A nearest
  drone with no legal path at all cannot fly the call; one whose energy does not cover
  the sortie is flown anyway (that is what straight-line dispatch does) and counted.

Each distinct (drone, call) pair is flown once by the simulator (``sitl``, PX4's rules
and PX4 SIH's airframe parameters) from its dock over the planned legal route — the
mission the service uploads (``encode_mission`` of the planner's items) — over raw
MAVLink at ``--speed``, several vehicles side by side. Time to scene is vehicle time from
the mission start to the scene waypoint reached, the same for both policies (the call's
path through intake and dispatch is the same for both). Calls no drone can serve are
left out of both.

Prints: per policy the average and p90 time to scene, the share of calls where the two
choose differently, and over those calls the seconds the ETA choice saved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import shapely

from benchmarks.dispatch.call_generator import GeneratedCall, generate_calls
from dfr.errors import PlanningError
from dfr.fleet.mission_encoding import RawItem, encode_mission
from dfr.geo.site_airspace import load_site_airspace
from dfr.planning.candidates import Candidate
from dfr.planning.planner import Planner
from dfr.planning.vehicle_limits import EXTRA_PARAMS, PARAMS, VehicleLimits
from dfr.sim_fleet import specs_for_site
from dfr.site import Site, load_site
from sitl.airframe import DEFAULT_AIRFRAME, load_airframe
from sitl.params import ParamStore
from sitl.probe import Probe, ProbeRig
from sitl.spec import VehicleSpec

SITE_DIR = Path(__file__).resolve().parents[2] / "flightplans" / "fort-worth"
MAV_CMD_COMPONENT_ARM_DISARM = 400
MAV_CMD_DO_SET_MODE = 176
MAV_CMD_NAV_WAYPOINT = 16
PX4_AUTO, PX4_MISSION = 4, 4
ACCEPTED = 0
MISSION_START_TIMEOUT_S = 30.0  # wall: arming and mission mode, retried until accepted
SCENE_TIMEOUT_VEHICLE_S = 1800.0


@dataclass(frozen=True, slots=True)
class Choice:
    drone_id: str
    feasible: bool  # the planner's verdict for this drone (route and energy)
    routable: bool  # a legal path exists at all
    planned_eta_s: float


@dataclass(frozen=True, slots=True)
class CallResult:
    cad_id: str
    lat_deg: float
    lon_deg: float
    hotspot: str
    eta: Choice | None
    nearest: Choice
    eta_flown_s: float | None
    nearest_flown_s: float | None


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


def _choice(candidate: Candidate) -> Choice:
    return Choice(
        candidate.drone_id, candidate.feasible, candidate.route is not None, candidate.eta_s
    )


def choose(planner: Planner, site: Site, call: GeneratedCall) -> tuple[Choice | None, Choice]:
    """(the ETA choice or None when no drone can serve it, the straight-line nearest)."""
    ranked = planner.rank(call.lat_deg, call.lon_deg)
    by_id = {c.drone_id: c for c in ranked}
    best = next((c for c in ranked if c.feasible), None)
    docks = {d.id: (d.lat, d.lon) for d in site.docks}
    nearest = min(
        site.drones, key=lambda d: _haversine_m(docks[d.dock], (call.lat_deg, call.lon_deg))
    )
    return (None if best is None else _choice(best)), _choice(by_id[nearest.id])


def _item_message(probe: Probe, sysid: int, item: RawItem) -> object:
    return probe.mav.mission_item_int_encode(
        sysid, 1, item.seq, item.frame, item.command, item.current, item.autocontinue,
        item.param1, item.param2, item.param3, item.param4, item.x, item.y, item.z,
        item.mission_type,
    )  # fmt: skip


async def _upload(probe: Probe, sysid: int, items: list[RawItem]) -> None:
    since = probe.mark()
    probe.send(probe.mav.mission_count_encode(sysid, 1, len(items), 0))
    for item in items:

        def asks_for(message: Any, seq: int = item.seq) -> bool:
            return bool(message.seq == seq)

        await probe.wait_for("MISSION_REQUEST_INT", asks_for, since=since, timeout_s=10)
        probe.send(_item_message(probe, sysid, item))
    ack = await probe.wait_for("MISSION_ACK", since=since, timeout_s=10)
    if ack.type != ACCEPTED:
        raise RuntimeError(f"mission refused: MISSION_ACK type {ack.type}")


async def _accepted(probe: Probe, sysid: int, command: int, *params: float) -> None:
    """Send until the vehicle accepts (PX4 refuses arming and mission mode for a while)."""
    deadline = time.monotonic() + MISSION_START_TIMEOUT_S
    while True:
        ack = await probe.command_long(command, *params, target=(sysid, 1))
        if ack.result == ACCEPTED:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"command {command} refused: result {ack.result}")
        await asyncio.sleep(0.2)


async def fly(spec: VehicleSpec, items: list[RawItem], speed: float) -> float:
    """Vehicle seconds from the mission start to the scene waypoint (the last waypoint
    before the loiter), flown by one simulated vehicle from its dock."""
    scene_seq = max(i.seq for i in items if i.command == MAV_CMD_NAV_WAYPOINT)
    sysid = spec.instance + 1
    async with ProbeRig([spec], speed_factor=speed) as rig:
        probe, vehicle = rig.probe, rig.vehicle
        await _upload(probe, sysid, items)
        await _accepted(probe, sysid, MAV_CMD_COMPONENT_ARM_DISARM, 1)
        since = probe.mark()
        await _accepted(probe, sysid, MAV_CMD_DO_SET_MODE, 1, PX4_AUTO, PX4_MISSION)
        started_s = vehicle.time_s
        # bounded on the vehicle's clock: a loaded machine slows the simulator, not the flight
        while True:
            try:
                await probe.wait_for(
                    "MISSION_ITEM_REACHED", lambda m: m.seq == scene_seq, since=since, timeout_s=5
                )
                return float(vehicle.time_s - started_s)
            except TimeoutError:
                flown_s = vehicle.time_s - started_s
                if flown_s > SCENE_TIMEOUT_VEHICLE_S:
                    raise TimeoutError(
                        f"scene not reached after {flown_s:.0f} s of flight "
                        f"(mode {vehicle.nav_state}, {vehicle.alt_rel_m():.0f} m)"
                    ) from None


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


async def run(count: int, seed: int, speed: float, jobs: int, out: Path | None) -> int:
    site = load_site(SITE_DIR)
    airspace, _rally = load_site_airspace(site)
    planner = Planner(site, airspace)
    # what the vehicle reports at connect: its airframe's values over PX4's defaults
    # (SIH_MASS and SIH_KDV, which cap the speed, are defaults the airframe file omits)
    params = ParamStore(load_airframe(DEFAULT_AIRFRAME))
    wanted = [name for name in (*PARAMS.values(), *EXTRA_PARAMS) if name in params]
    limits = VehicleLimits.from_params({name: params.get_float(name) for name in wanted})
    for drone in site.drones:  # what each vehicle would tell the service at connect
        planner.set_vehicle_limits(drone.id, limits)
    planner.prepare()
    boundary = shapely.unary_union(
        [shapely.geometry.shape(f["geometry"]) for f in _boundaries(SITE_DIR)]
    )
    calls = generate_calls(count, seed, boundary)
    specs = {s.name: s for s in specs_for_site(site)}

    choices = [(call, *choose(planner, site, call)) for call in calls]
    pairs: dict[tuple[str, str], GeneratedCall] = {}
    for call, eta, nearest in choices:
        if eta is None:
            continue  # no drone can serve it: out of both
        pairs[(eta.drone_id, call.cad_id)] = call
        if nearest.routable:
            pairs[(nearest.drone_id, call.cad_id)] = call
    print(
        f"{count} calls (seed {seed}), {len(pairs)} distinct flights at {speed:g}x, "
        f"{jobs} side by side ...",
        file=sys.stderr,
    )
    flown: dict[tuple[str, str], float | None] = {}
    gate = asyncio.Semaphore(jobs)
    started = time.monotonic()

    async def one(key: tuple[str, str], call: GeneratedCall) -> None:
        drone_id, _ = key
        async with gate:
            try:
                route = planner.plan_route(drone_id, call.lat_deg, call.lon_deg)
                items = encode_mission(planner.mission_items(route))
                flown[key] = await fly(specs[drone_id], items, speed)
            except (PlanningError, RuntimeError, TimeoutError) as exc:
                print(f"  {key}: not flown: {type(exc).__name__}: {exc}", file=sys.stderr)
                flown[key] = None
            if len(flown) % 25 == 0:
                print(
                    f"  {len(flown)}/{len(pairs)} flown, {time.monotonic() - started:.0f} s",
                    file=sys.stderr,
                )

    async with asyncio.TaskGroup() as group:
        for key, call in pairs.items():
            group.create_task(one(key, call))

    results = [
        CallResult(
            call.cad_id, call.lat_deg, call.lon_deg, call.hotspot, eta, nearest,
            flown.get((eta.drone_id, call.cad_id)) if eta else None,
            flown.get((nearest.drone_id, call.cad_id)) if eta and nearest.routable else None,
        )
        for call, eta, nearest in choices
    ]  # fmt: skip
    _print(results, time.monotonic() - started)
    if out is not None:
        text = json.dumps([asdict(r) for r in results], indent=1)
        await asyncio.to_thread(out.write_text, text)
    return 0


def _boundaries(site_dir: Path) -> list[dict[str, object]]:
    features = json.loads((site_dir / "airspace.geojson").read_text())["features"]
    return [f for f in features if f["properties"].get("kind") == "boundary"]


def _print(results: list[CallResult], wall_s: float | None) -> None:
    served = [r for r in results if r.eta is not None]
    both = [r for r in served if r.eta_flown_s is not None and r.nearest_flown_s is not None]
    differ = [r for r in served if r.eta and r.eta.drone_id != r.nearest.drone_id]
    unroutable = [r for r in differ if not r.nearest.routable]
    short = [r for r in differ if r.nearest.routable and not r.nearest.feasible]
    eta_failed = [r for r in served if r.eta_flown_s is None]
    near_failed = [r for r in differ if r.nearest.routable and r.nearest_flown_s is None]
    eta_s = [r.eta_flown_s for r in both if r.eta_flown_s is not None]
    near_s = [r.nearest_flown_s for r in both if r.nearest_flown_s is not None]
    print(f"calls {len(results)}; some drone can serve {len(served)}; flown both ways {len(both)}")
    print(f"{'policy':<10} {'avg s':>8} {'p90 s':>8}   (time to scene, vehicle clock)")
    for name, values in (("ETA (dfr)", eta_s), ("nearest", near_s)):
        print(f"{name:<10} {statistics.fmean(values):8.1f} {_p90(values):8.1f}")
    print(
        f"nearest/ETA: avg {statistics.fmean(near_s) / statistics.fmean(eta_s):.3f}, "
        f"p90 {_p90(near_s) / _p90(eta_s):.3f}"
    )
    share = 100 * len(differ) / max(1, len(served))
    print(f"choices differ: {len(differ)}/{len(served)} ({share:.1f} %); of those:")
    print(f"  nearest has no legal path to the scene: {len(unroutable)}")
    print(f"  nearest lacks the energy for the sortie (flown anyway): {len(short)}")
    print(f"  nearest flown but never reached the scene: {len(near_failed)}")
    saved = [
        r.nearest_flown_s - r.eta_flown_s
        for r in differ
        if r.nearest_flown_s is not None and r.eta_flown_s is not None
    ]
    if saved:
        print(
            f"  both reached it: ETA's drone first by {statistics.fmean(saved):.1f} s on "
            f"average (max {max(saved):.1f} s, n={len(saved)})"
        )
    print(f"ETA choices that did not reach the scene: {len(eta_failed)}")
    ratios = [r.eta_flown_s / r.eta.planned_eta_s for r in served if r.eta and r.eta_flown_s]
    if ratios:
        print(
            f"flown/planned time to scene (ETA choices, n={len(ratios)}): mean "
            f"{statistics.fmean(ratios):.3f}, min {min(ratios):.3f}, max {max(ratios):.3f}, "
            f"within 10 %: {sum(abs(x - 1) <= 0.1 for x in ratios)}"
        )
    if wall_s is not None:
        print(f"wall {wall_s:.0f} s")


def _from_json(path: Path) -> list[CallResult]:
    def choice(value: dict[str, object] | None) -> Choice | None:
        return None if value is None else Choice(**value)  # type: ignore[arg-type]

    rows = json.loads(path.read_text())
    results = []
    for row in rows:
        nearest = choice(row.pop("nearest"))
        assert nearest is not None
        results.append(CallResult(**{**row, "eta": choice(row.pop("eta")), "nearest": nearest}))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--speed", type=float, default=20.0, help="simulator speed factor")
    parser.add_argument("--jobs", type=int, default=4, help="vehicles flying side by side")
    parser.add_argument("--out", type=Path, help="per-call results as JSON")
    parser.add_argument("--from-json", type=Path, help="print the figures of a run's --out")
    args = parser.parse_args()
    if args.from_json:
        _print(_from_json(args.from_json), None)
        return 0
    return asyncio.run(run(args.calls, args.seed, args.speed, args.jobs, args.out))


if __name__ == "__main__":
    sys.exit(main())
