"""Dispatch by planned ETA vs the straight-line nearest drone, flown in the simulator.

    .venv/bin/python -m benchmarks.dispatch.eta_vs_nearest                 # Fort Worth, 500 calls
    .venv/bin/python -m benchmarks.dispatch.eta_vs_nearest --calls 40      # quick look
    .venv/bin/python -m benchmarks.dispatch.eta_vs_nearest \
        --site benchmarks/dispatch/sites/pecan-ridge --calls 250 --jobs 3 --speed 30

Seeded calls on a site (``call_generator.py``: weighted toward where a city's calls
cluster; a site's ``bench.yaml`` gives its hotspots and each simulated vehicle's
airframe, :mod:`benchmarks.dispatch.bench_file`). For each call, with every drone docked
and charged:

- **ETA** (dfr): the dispatcher's choice, the best feasible candidate of the planner's
  ranking (legal route around the zones, each vehicle's own PX4 speed limits, the wind,
  energy out + on scene + back within the battery above the reserve);
- **nearest** (the peer, what most DFR products do): the drone whose dock is nearest in
  a straight line, whatever lies between and whatever its battery can do. A nearest
  drone with no legal path at all cannot fly the call; one whose energy does not cover
  the sortie is flown anyway (that is what straight-line dispatch does) and counted.

Each distinct (drone, call) pair is flown once by the simulator (``sitl``, PX4's rules
and the drone's airframe) from its dock over the planned legal route — the mission the
service uploads (``encode_mission`` of the planner's items) — over raw MAVLink at
``--speed``, several vehicles side by side, in ``--wind``. Where the two policies choose
different drones, both are flown, and what is compared is the **flown** time to scene:
vehicle time from the mission start to the scene waypoint reached, the same for both
policies (the call's path through intake and dispatch is the same for both). Calls no
drone can serve are left out of both.

Prints: per policy the average and p90 time to scene over all servable calls, the calls
where the two choose differently, and over those the flown time of each choice, the
ratio ETA / nearest and the seconds saved; planned against flown for every flight; and
the speed factor the simulator really kept.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import shapely

from benchmarks.dispatch.bench_file import load_bench
from benchmarks.dispatch.call_generator import GeneratedCall, generate_calls
from dfr.errors import PlanningError
from dfr.fleet.mission_encoding import RawItem, encode_mission
from dfr.geo.site_airspace import load_site_airspace
from dfr.planning.candidates import Candidate
from dfr.planning.planner import Planner
from dfr.planning.vehicle_limits import EXTRA_PARAMS, PARAMS, VehicleLimits
from dfr.planning.wind import Wind as PlannerWind
from dfr.sim_fleet import specs_for_site
from dfr.site import Site, load_site
from sitl.airframe import load_airframe
from sitl.params import ParamStore
from sitl.probe import Probe, ProbeRig
from sitl.spec import VehicleSpec
from sitl.wind import Wind as SimWind

SITE_DIR = Path(__file__).resolve().parents[2] / "flightplans" / "fort-worth"
MAV_CMD_COMPONENT_ARM_DISARM = 400
MAV_CMD_DO_SET_MODE = 176
MAV_CMD_NAV_WAYPOINT = 16
PX4_AUTO, PX4_MISSION = 4, 4
ACCEPTED = 0
MISSION_START_TIMEOUT_S = 30.0  # wall: mission mode and arming, retried until accepted
SCENE_TIMEOUT_VEHICLE_S = 1800.0
DETOUR_SHARE = 1.03  # a route this much longer than the straight line goes round a zone


@dataclass(frozen=True, slots=True)
class Choice:
    drone_id: str
    feasible: bool  # the planner's verdict for this drone (route and energy)
    routable: bool  # a legal path exists at all
    planned_eta_s: float
    path_m: float | None = None  # the planned legal route, dock to scene
    straight_m: float | None = None  # dock to the call in a straight line


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
    # vehicle seconds per wall second over each flight (the speed factor kept)
    eta_sim_speed: float | None = None
    nearest_sim_speed: float | None = None


@dataclass(frozen=True, slots=True)
class Flown:
    time_to_scene_s: float  # vehicle clock, mission start to the scene waypoint
    sim_speed: float  # vehicle seconds per wall second over the flight


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


def _choice(candidate: Candidate, straight_m: float) -> Choice:
    route = candidate.route
    return Choice(
        candidate.drone_id,
        candidate.feasible,
        route is not None,
        candidate.eta_s,
        None if route is None else route.distance_m,
        straight_m,
    )


def choose(
    planner: Planner, site: Site, call: GeneratedCall, wind: PlannerWind
) -> tuple[Choice | None, Choice]:
    """(the ETA choice or None when no drone can serve it, the straight-line nearest)."""
    ranked = planner.rank(call.lat_deg, call.lon_deg, wind=wind)
    by_id = {c.drone_id: c for c in ranked}
    best = next((c for c in ranked if c.feasible), None)
    docks = {d.id: (d.lat, d.lon) for d in site.docks}
    straight = {
        d.id: _haversine_m(docks[d.dock], (call.lat_deg, call.lon_deg)) for d in site.drones
    }
    nearest = min(site.drones, key=lambda d: straight[d.id])
    eta = None if best is None else _choice(best, straight[best.drone_id])
    return eta, _choice(by_id[nearest.id], straight[nearest.id])


def vehicle_limits(airframe: str) -> VehicleLimits:
    """What a vehicle of ``airframe`` reports at connect: the airframe's values over PX4's
    defaults (SIH_MASS and SIH_KDV, which cap the speed, are defaults a file may omit)."""
    params = ParamStore(load_airframe(airframe))
    wanted = [name for name in (*PARAMS.values(), *EXTRA_PARAMS) if name in params]
    return VehicleLimits.from_params({name: params.get_float(name) for name in wanted})


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
    """Send until the vehicle accepts (PX4 refuses mission mode until it has checked the
    mission); an ACK that does not come is asked for again, as a ground station does."""
    deadline = time.monotonic() + MISSION_START_TIMEOUT_S
    result: int | str = "no ACK"
    while time.monotonic() < deadline:
        try:
            ack = await probe.command_long(command, *params, target=(sysid, 1))
        except TimeoutError:
            continue
        if ack.result == ACCEPTED:
            return
        result = ack.result
        await asyncio.sleep(0.2)
    raise RuntimeError(
        f"command {command} not accepted in {MISSION_START_TIMEOUT_S:.0f} s: {result}"
    )


async def fly(spec: VehicleSpec, items: list[RawItem], speed: float, wind: SimWind) -> Flown:
    """Vehicle seconds from the mission start to the scene waypoint (the last waypoint
    before the loiter), flown by one simulated vehicle from its dock."""
    scene_seq = max(i.seq for i in items if i.command == MAV_CMD_NAV_WAYPOINT)
    sysid = int(spec.params.get("MAV_SYS_ID", spec.instance + 1))
    async with ProbeRig([spec], speed_factor=speed, wind=wind) as rig:
        probe, vehicle = rig.probe, rig.vehicle
        await _upload(probe, sysid, items)
        # Mission mode first, then arm: PX4 starts a mission when it is armed in Mission.
        # Armed first, the vehicle disarms itself after COM_DISARM_PRFLT + COM_SPOOLUP_TIME
        # (11 s of its own time, 0.22 s of wall time at 50x) unless Mission has started by
        # then; a loaded loop or one refusal of the mode was enough to leave it on the pad.
        await _accepted(probe, sysid, MAV_CMD_DO_SET_MODE, 1, PX4_AUTO, PX4_MISSION)
        since = probe.mark()
        await _accepted(probe, sysid, MAV_CMD_COMPONENT_ARM_DISARM, 1)
        started_wall_s = time.monotonic()
        # bounded on the vehicle's clock: a loaded machine slows the simulator, not the flight
        while True:
            try:
                await probe.wait_for(
                    "MISSION_ITEM_REACHED", lambda m: m.seq == scene_seq, since=since, timeout_s=2
                )
                break
            except TimeoutError:
                flown_s = vehicle.time_s - (vehicle.armed_at_s or vehicle.time_s)
                state = f"mode {vehicle.nav_state}, {vehicle.alt_rel_m():.0f} m"
                if not vehicle.armed:
                    raise RuntimeError(
                        f"disarmed after {flown_s:.0f} s of flight ({state})"
                    ) from None
                if flown_s > SCENE_TIMEOUT_VEHICLE_S:
                    raise TimeoutError(
                        f"scene not reached after {flown_s:.0f} s of flight ({state})"
                    ) from None
        # the vehicle's own clock at arming and at the scene: the messages that tell of them
        # arrive a tick or more later (seconds of vehicle time at 30x on a loaded machine)
        armed_at_s, reached_at_s = vehicle.armed_at_s, vehicle.item_reached_at_s[scene_seq]
        assert armed_at_s is not None
        flown_s = reached_at_s - armed_at_s
        return Flown(flown_s, flown_s / max(1e-9, time.monotonic() - started_wall_s))


def _p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _parse_wind(text: str) -> SimWind:
    """``DIR_DEG,SPEED_MPS`` (where the wind blows from, degrees true), as ``dfr plan``."""
    try:
        from_text, speed_text = text.split(",")
        wind = SimWind(from_deg=float(from_text) % 360.0, speed_mps=float(speed_text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected DIR_DEG,SPEED_MPS, e.g. 180,6"
        ) from None
    if not 0.0 <= wind.speed_mps <= 20.0:
        raise argparse.ArgumentTypeError(f"{text!r}: wind speed 0..20 m/s")
    return wind


async def run(
    site_dir: Path,
    count: int,
    seed: int,
    speed: float,
    jobs: int,
    wind: SimWind,
    out: Path | None,
) -> int:
    site = load_site(site_dir)
    bench = load_bench(site)
    airspace, _rally = load_site_airspace(site)
    planner = Planner(site, airspace)
    for drone in site.drones:  # what each vehicle would tell the service at connect
        planner.set_vehicle_limits(drone.id, vehicle_limits(bench.airframes[drone.id]))
    planner.prepare()
    planner_wind = PlannerWind(wind.from_deg, wind.speed_mps)
    boundary = shapely.unary_union(
        [shapely.geometry.shape(f["geometry"]) for f in _boundaries(site_dir)]
    )
    calls = generate_calls(count, seed, boundary, bench.hotspots)
    specs = {
        s.name: dataclasses.replace(s, airframe=bench.airframes[s.name])
        for s in specs_for_site(site)
    }

    choices = [(call, *choose(planner, site, call, planner_wind)) for call in calls]
    pairs: dict[tuple[str, str], GeneratedCall] = {}
    for call, eta, nearest in choices:
        if eta is None:
            continue  # no drone can serve it: out of both
        pairs[(eta.drone_id, call.cad_id)] = call
        if nearest.routable:
            pairs[(nearest.drone_id, call.cad_id)] = call
    print(
        f"{site.name}: {count} calls (seed {seed}), {len(pairs)} distinct flights at "
        f"{speed:g}x, {jobs} side by side, wind {wind.speed_mps:g} m/s from "
        f"{wind.from_deg:g} deg ...",
        file=sys.stderr,
    )
    flown: dict[tuple[str, str], Flown | None] = {}
    gate = asyncio.Semaphore(jobs)
    started = time.monotonic()

    async def one(key: tuple[str, str], call: GeneratedCall) -> None:
        drone_id, _ = key
        async with gate:
            try:
                route = planner.plan_route(drone_id, call.lat_deg, call.lon_deg, wind=planner_wind)
                items = encode_mission(planner.mission_items(route))
                flown[key] = await fly(specs[drone_id], items, speed, wind)
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
            group.create_task(one(key, call), name=f"bench: {key[0]} {key[1]}")

    def time_of(key: tuple[str, str] | None) -> tuple[float | None, float | None]:
        done = flown.get(key) if key else None
        return (None, None) if done is None else (done.time_to_scene_s, done.sim_speed)

    results = []
    for call, eta, nearest in choices:
        eta_key = (eta.drone_id, call.cad_id) if eta else None
        near_key = (nearest.drone_id, call.cad_id) if eta and nearest.routable else None
        (eta_s, eta_speed), (near_s, near_speed) = time_of(eta_key), time_of(near_key)
        result = CallResult(
            call.cad_id, call.lat_deg, call.lon_deg, call.hotspot, eta, nearest,
            eta_s, near_s, eta_speed, near_speed,
        )  # fmt: skip
        results.append(result)
    _print(results, time.monotonic() - started, speed)
    if out is not None:
        text = json.dumps([asdict(r) for r in results], indent=1)
        await asyncio.to_thread(out.write_text, text)
    return 0


def _boundaries(site_dir: Path) -> list[dict[str, object]]:
    features = json.loads((site_dir / "airspace.geojson").read_text())["features"]
    return [f for f in features if f["properties"].get("kind") == "boundary"]


def _avg_p90(values: Sequence[float]) -> str:
    return f"{statistics.fmean(values):8.1f} {_p90(values):8.1f}"


def _ratio(a: Sequence[float], b: Sequence[float]) -> str:
    return f"avg {statistics.fmean(a) / statistics.fmean(b):.3f}, p90 {_p90(a) / _p90(b):.3f}"


def _print(results: list[CallResult], wall_s: float | None, speed: float | None) -> None:
    served = [r for r in results if r.eta is not None]
    both = [r for r in served if r.eta_flown_s is not None and r.nearest_flown_s is not None]
    differ = [r for r in served if r.eta and r.eta.drone_id != r.nearest.drone_id]
    unroutable = [r for r in differ if not r.nearest.routable]
    short = [r for r in differ if r.nearest.routable and not r.nearest.feasible]
    eta_failed = [r for r in served if r.eta_flown_s is None]
    near_failed = [r for r in differ if r.nearest.routable and r.nearest_flown_s is None]
    print(f"calls {len(results)}; some drone can serve {len(served)}; flown both ways {len(both)}")
    if not both:
        print("nothing flown both ways")
        return
    eta_s = [r.eta_flown_s for r in both if r.eta_flown_s is not None]
    near_s = [r.nearest_flown_s for r in both if r.nearest_flown_s is not None]
    print(f"{'policy':<10} {'avg s':>8} {'p90 s':>8}   (flown time to scene, vehicle clock)")
    for name, values in (("ETA (dfr)", eta_s), ("nearest", near_s)):
        print(f"{name:<10} {_avg_p90(values)}")
    print(f"ETA/nearest, all calls flown both ways: {_ratio(eta_s, near_s)}")
    share = 100 * len(differ) / max(1, len(served))
    print(f"choices differ: {len(differ)}/{len(served)} ({share:.1f} %); of those:")
    print(f"  nearest has no legal path to the scene: {len(unroutable)}")
    print(f"  nearest lacks the energy for the sortie (flown anyway): {len(short)}")
    print(f"  nearest flown but never reached the scene: {len(near_failed)}")
    detour = [
        r
        for r in differ
        if r.nearest.path_m
        and r.nearest.straight_m
        and r.nearest.path_m > DETOUR_SHARE * r.nearest.straight_m
    ]
    print(
        f"  nearest's route {100 * (DETOUR_SHARE - 1):.0f} % or more longer than its straight "
        f"line (a zone in the way): {len(detour)}; the rest: a faster drone or the wind"
    )
    pairs = [
        (r.eta_flown_s, r.nearest_flown_s)
        for r in differ
        if r.nearest_flown_s is not None and r.eta_flown_s is not None
    ]
    if pairs:
        d_eta, d_near = [a for a, _ in pairs], [b for _, b in pairs]
        saved = [b - a for a, b in pairs]
        print(f"  both flown, n={len(pairs)}:     avg s    p90 s")
        print(f"    ETA's choice        {_avg_p90(d_eta)}")
        print(f"    nearest's choice    {_avg_p90(d_near)}")
        print(f"    ETA/nearest: {_ratio(d_eta, d_near)}")
        print(
            f"    saved by ETA's choice: avg {statistics.fmean(saved):.1f} s, p90 "
            f"{_p90(saved):.1f} s, max {max(saved):.1f} s; ETA's choice first on scene in "
            f"{sum(s > 0 for s in saved)}/{len(saved)}"
        )
    print(f"ETA choices that did not reach the scene: {len(eta_failed)}")
    ratios = [r.eta_flown_s / r.eta.planned_eta_s for r in served if r.eta and r.eta_flown_s]
    ratios += [
        r.nearest_flown_s / r.nearest.planned_eta_s
        for r in differ
        if r.nearest_flown_s and r.nearest.planned_eta_s > 0
    ]
    if ratios:
        print(
            f"flown/planned time to scene (every flight, n={len(ratios)}): mean "
            f"{statistics.fmean(ratios):.3f}, min {min(ratios):.3f}, max {max(ratios):.3f}, "
            f"within 10 %: {sum(abs(x - 1) <= 0.1 for x in ratios)}"
        )
    speeds = [s for r in served for s in (r.eta_sim_speed, r.nearest_sim_speed) if s]
    if speeds:
        asked = f" of {speed:g}x asked" if speed else ""
        print(
            f"simulator speed kept over the flights{asked}: mean {statistics.fmean(speeds):.1f}x, "
            f"min {min(speeds):.1f}x"
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
    parser.add_argument("--site", type=Path, default=SITE_DIR, help="site directory")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--speed", type=float, default=20.0, help="simulator speed factor")
    parser.add_argument("--jobs", type=int, default=3, help="vehicles flying side by side")
    parser.add_argument(
        "--wind", type=_parse_wind, default=SimWind(), help="DIR_DEG,SPEED_MPS (from; default calm)"
    )
    parser.add_argument("--out", type=Path, help="per-call results as JSON")
    parser.add_argument("--from-json", type=Path, help="print the figures of a run's --out")
    args = parser.parse_args()
    if args.from_json:
        _print(_from_json(args.from_json), None, None)
        return 0
    return asyncio.run(
        run(args.site, args.calls, args.seed, args.speed, args.jobs, args.wind, args.out)
    )


if __name__ == "__main__":
    sys.exit(main())
