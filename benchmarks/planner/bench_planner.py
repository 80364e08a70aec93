"""Route planner benchmark: dfr's visibility planner vs extremitypathfinder and pyvisgraph.

    .venv/bin/python -m benchmarks.planner.bench_planner [--sizes 50,200,1000] [--queries 100]
    .venv/bin/python benchmarks/planner/bench_planner.py      # also runs as a file

Same generated scenes (random 12-vertex polygons in 20 km x 20 km, metres) and the
same start/goal pairs for every tool. pyvisgraph runs in km units (its hard-coded
INF = 10000 breaks metric coordinates). For each run: preparation time, query
median / p95, length ratio against the exact optimum (extremitypathfinder's result,
which is exact), and the number of returned paths that cut through an obstacle
(checked against the obstacles shrunk by 3 cm). For dfr also: ranking 50 docks for
one incident (one sweep + precomputed shortest-path trees), and the full dispatch
ranking (routes + wind + energy) through ``Planner.rank`` with 50 drones and 500
zones, and on the Fort Worth site. Peers whose preparation would exceed the cap
(projected from the previous size, preparation grows ~N^2) are skipped and say so.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import shapely
from shapely.geometry import LineString, Polygon

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.planner.scenes import random_free_points, random_scene  # noqa: E402
from dfr.errors import NoRoute  # noqa: E402
from dfr.planning.visibility import VisibilityGraph  # noqa: E402

Point2 = tuple[float, float]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


class Result:
    def __init__(self, tool: str, n: int) -> None:
        self.tool = tool
        self.n = n
        self.prepare_s = math.nan
        self.query_s: list[float] = []
        self.lengths: list[float | None] = []
        self.through_zone = 0
        self.note = ""

    def row(self, exact: list[float | None] | None) -> str:
        if self.note and not self.query_s:
            return f"{self.n:>5} {self.tool:<22} {self.note}"
        ratio = "n/a"
        if exact is not None:
            rs = [a / b for a, b in zip(self.lengths, exact, strict=True) if a and b]
            if rs:
                ratio = f"{statistics.mean(rs):.5f} / {max(rs):.5f}"
        med = statistics.median(self.query_s) * 1e3
        p95 = pct(self.query_s, 0.95) * 1e3
        return (
            f"{self.n:>5} {self.tool:<22} {self.prepare_s:>9.2f} {med:>9.2f} {p95:>9.2f} "
            f"{ratio:>19} {self.through_zone:>8}"
        )


def through_zone(path: list[Point2], shrunk: shapely.Geometry) -> bool:
    return len(path) > 1 and bool(LineString(path).intersects(shrunk))


def run_ours(
    polys: list[Polygon], pairs: list[tuple[Point2, Point2]], shrunk: shapely.Geometry
) -> Result:
    res = Result("dfr (this)", len(polys))
    t = time.perf_counter()
    graph = VisibilityGraph(polys)
    res.prepare_s = time.perf_counter() - t
    for a, b in pairs:
        t = time.perf_counter()
        try:
            path = graph.shortest_path(a, b)
        except NoRoute:
            res.query_s.append(time.perf_counter() - t)
            res.lengths.append(None)
            continue
        res.query_s.append(time.perf_counter() - t)
        res.lengths.append(path.length_m)
        res.through_zone += through_zone(list(path.points_xy), shrunk)
    res.graph = graph  # type: ignore[attr-defined]
    return res


def run_extremity(
    polys: list[Polygon], pairs: list[tuple[Point2, Point2]], shrunk: shapely.Geometry
) -> Result:
    from extremitypathfinder import PolygonEnvironment

    res = Result("extremitypathfinder", len(polys))
    margin = 100_000.0
    boundary = [(-margin, -margin), (margin, -margin), (margin, margin), (-margin, margin)]
    holes = [list(shapely.orient_polygons(p, exterior_cw=True).exterior.coords)[:-1] for p in polys]
    t = time.perf_counter()
    env = PolygonEnvironment()
    env.store(boundary, holes, validate=False)
    res.prepare_s = time.perf_counter() - t
    for a, b in pairs:
        t = time.perf_counter()
        path, length = env.find_shortest_path(a, b)
        res.query_s.append(time.perf_counter() - t)
        res.lengths.append(length)
        res.through_zone += through_zone([tuple(p) for p in path], shrunk)
    return res


def run_pyvisgraph(
    polys: list[Polygon],
    pairs: list[tuple[Point2, Point2]],
    shrunk: shapely.Geometry,
    unit_m: float = 1000.0,
) -> Result:
    import pyvisgraph as vg

    name = "pyvisgraph (km units)" if unit_m == 1000.0 else "pyvisgraph (metres!)"
    res = Result(name, len(polys))
    scaled = [
        [vg.Point(x / unit_m, y / unit_m) for x, y in list(p.exterior.coords)[:-1]] for p in polys
    ]
    t = time.perf_counter()
    graph = vg.VisGraph()
    graph.build(scaled, workers=1, status=False)
    res.prepare_s = time.perf_counter() - t
    for a, b in pairs:
        t = time.perf_counter()
        path = graph.shortest_path(
            vg.Point(a[0] / unit_m, a[1] / unit_m), vg.Point(b[0] / unit_m, b[1] / unit_m)
        )
        res.query_s.append(time.perf_counter() - t)
        pts = [(p.x * unit_m, p.y * unit_m) for p in path]
        res.lengths.append(sum(math.dist(p, q) for p, q in itertools.pairwise(pts)))
        res.through_zone += through_zone(pts, shrunk)
    return res


def rank_docks(
    graph: VisibilityGraph, docks: list[Point2], goals: list[Point2]
) -> tuple[float, list[float]]:
    t = time.perf_counter()
    trees = [graph.tree_from(d) for d in docks]
    trees_s = time.perf_counter() - t
    times = []
    for g in goals:
        t = time.perf_counter()
        graph.paths_from_trees(trees, g)
        times.append(time.perf_counter() - t)
    return trees_s, times


def dispatch_bench(n_zones: int, n_drones: int, n_calls: int) -> str:
    """Planner.rank (routes, wind, energy) with n_drones and n_zones around Fort Worth."""
    from dfr.geo.airspace import Airspace
    from dfr.geo.frame import LocalFrame
    from dfr.geo.zone import Zone, ZoneKind
    from dfr.planning.planner import Planner
    from dfr.planning.wind import Wind
    from dfr.site import Site, SiteFile

    frame = LocalFrame(32.75, -97.33)
    polys = random_scene(n_zones, seed=7, size_m=40_000.0)
    zones = []
    for i, p in enumerate(polys):
        ll = frame.xy_to_lonlat(shapely.get_coordinates(p.exterior) - 20_000.0)
        zones.append(Zone(f"z{i}", ZoneKind.NO_FLY, f"zone {i}", Polygon(ll), buffer_m=30.0))
    airspace = Airspace(zones, frame)
    obstacles = [p.buffer(31) for p in polys]
    docks_xy = random_free_points(obstacles, n_drones, seed=8, size_m=40_000.0)
    calls_xy = random_free_points(obstacles, n_calls, seed=9, size_m=40_000.0)
    docks = []
    drones = []
    for i, (x, y) in enumerate(docks_xy):
        lat, lon = frame.to_latlon(x - 20_000.0, y - 20_000.0)
        docks.append({"id": f"d{i}", "lat": lat, "lon": lon, "ground_alt_amsl_m": 200.0})
        drones.append(
            {"id": f"u{i}", "dock": f"d{i}", "mavlink_url": f"udpin://0.0.0.0:{14540 + i}"}
        )
    site = Site(
        Path("."), SiteFile.model_validate({"name": "bench", "docks": docks, "drones": drones})
    )
    planner = Planner(site, airspace)
    t = time.perf_counter()
    prepared = planner.prepare()
    prep_s = time.perf_counter() - t
    wind = Wind(200.0, 6.0)
    times = []
    for x, y in calls_xy:
        lat, lon = frame.to_latlon(x - 20_000.0, y - 20_000.0)
        t = time.perf_counter()
        ranked = planner.rank(lat, lon, wind=wind)
        times.append(time.perf_counter() - t)
        assert len(ranked) == n_drones
    return (
        f"dispatch ranking, {n_drones} drones / {n_zones} zones (40 km square, wind 6 m/s): "
        f"prepare {prep_s:.2f} s ({prepared.graph.n_nodes} nodes, {prepared.graph.n_edges} edges, "
        f"{n_drones} dock trees); rank median {statistics.median(times) * 1e3:.1f} ms, "
        f"p95 {pct(times, 0.95) * 1e3:.1f} ms over {n_calls} calls"
    )


def fort_worth_bench(n_calls: int) -> str:
    from dfr.planning.planner import Planner
    from dfr.site import load_site

    t = time.perf_counter()
    planner = Planner.from_site(load_site(ROOT / "flightplans" / "fort-worth"))
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    prepared = planner.prepare()
    prep_s = time.perf_counter() - t
    rng = random.Random(3)
    rank_t, route_t = [], []
    for _ in range(n_calls):
        lat, lon = rng.uniform(32.60, 32.95), rng.uniform(-97.50, -97.20)
        t = time.perf_counter()
        planner.rank(lat, lon)
        rank_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        planner.plan_route(planner.site.drones[0], lat, lon, start=(32.80, -97.25))
        route_t.append(time.perf_counter() - t)
    return (
        f"Fort Worth site ({len(planner.airspace.zones)} zones -> "
        f"{len(prepared.obstacles.polygons)} obstacles, {prepared.graph.n_nodes} nodes): "
        f"load {load_s:.2f} s, prepare {prep_s:.2f} s; rank 4 drones median "
        f"{statistics.median(rank_t) * 1e3:.1f} / p95 {pct(rank_t, 0.95) * 1e3:.1f} ms; "
        f"route from a free start median {statistics.median(route_t) * 1e3:.1f} / "
        f"p95 {pct(route_t, 0.95) * 1e3:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,1000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--docks", type=int, default=50)
    parser.add_argument(
        "--peer-cap-s", type=float, default=240.0, help="skip a peer projected to prepare longer"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip() and int(s) > 0]
    print(__doc__.splitlines()[0])
    print(f"{args.queries} queries per scene; ratio = path length / exact optimum (mean / max)")
    header = (
        f"{'N':>5} {'tool':<22} {'prepare s':>9} {'q med ms':>9} {'q p95 ms':>9} "
        f"{'length ratio':>19} {'in zone':>8}"
    )
    peers: dict[str, Callable[..., Result]] = {
        "extremitypathfinder": run_extremity,
        "pyvisgraph": run_pyvisgraph,
    }
    last_prep: dict[str, tuple[int, float]] = {}
    rank_lines = []
    for n in sizes:
        polys = random_scene(n, seed=n)
        shrunk = shapely.union_all([p.buffer(-0.03) for p in polys])
        pts = random_free_points(polys, 2 * args.queries, seed=n + 1)
        pairs = list(zip(pts[::2], pts[1::2], strict=True))
        print()
        print(header)
        ours = run_ours(polys, pairs, shrunk)
        results = {"dfr": ours}
        for name, fn in peers.items():
            projected = None
            if name in last_prep:
                n0, t0 = last_prep[name]
                projected = t0 * (n / n0) ** 2
            if projected is not None and projected > args.peer_cap_s:
                r = Result(name, n)
                r.note = (
                    f"skipped: projected ~{projected / 60:.0f} min to prepare "
                    f"(N={last_prep[name][0]} took {last_prep[name][1]:.0f} s; "
                    f"cap {args.peer_cap_s:.0f} s)"
                )
                results[name] = r
                continue
            r = fn(polys, pairs, shrunk)
            last_prep[name] = (n, r.prepare_s)
            results[name] = r
        if n == min(sizes):
            # the failure that makes us run pyvisgraph in km: its INF = 10000 in metres
            results["pyvisgraph-m"] = run_pyvisgraph(polys, pairs, shrunk, unit_m=1.0)
        exact = (
            results["extremitypathfinder"].lengths
            if results["extremitypathfinder"].query_s
            else None
        )
        for r in results.values():
            print(r.row(exact), flush=True)
        docks = random_free_points(polys, args.docks, seed=n + 2)
        goals = [b for _, b in pairs]
        trees_s, times = rank_docks(ours.graph, docks, goals)  # type: ignore[attr-defined]
        rank_lines.append(
            f"N={n}: {ours.graph.n_nodes} nodes, {ours.graph.n_edges} edges; "  # type: ignore[attr-defined]
            f"{args.docks} dock trees {trees_s:.2f} s; rank all docks median "
            f"{statistics.median(times) * 1e3:.1f} ms, p95 {pct(times, 0.95) * 1e3:.1f} ms"
        )
    print()
    print("dfr: ranking every dock for one incident (one sweep from the incident + dock trees)")
    for line in rank_lines:
        print("  " + line)
    print()
    print(dispatch_bench(500, 50, args.queries))
    print(fort_worth_bench(args.queries))


if __name__ == "__main__":
    main()
