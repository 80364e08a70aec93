"""Random obstacle scenes for the planner benchmark: star-shaped polygons in metres."""

from __future__ import annotations

import math
import random

from shapely.geometry import Polygon


def random_polygon(
    rng: random.Random, cx: float, cy: float, r_m: float, n_vertices: int
) -> Polygon:
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n_vertices))
    pts = []
    for a in angles:
        r = r_m * rng.uniform(0.4, 1.0)
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    poly = Polygon(pts)
    return poly if poly.is_valid else poly.convex_hull


def random_scene(
    n_polygons: int, seed: int, size_m: float = 20_000.0, n_vertices: int = 12
) -> list[Polygon]:
    """Non-overlapping random polygons (radius ~ scaled so the scene stays passable)."""
    rng = random.Random(seed)
    r_max = min(600.0, 0.35 * size_m / math.sqrt(n_polygons))
    polys: list[Polygon] = []
    tries = 0
    while len(polys) < n_polygons and tries < n_polygons * 50:
        tries += 1
        r = rng.uniform(0.4, 1.0) * r_max
        cx, cy = rng.uniform(r, size_m - r), rng.uniform(r, size_m - r)
        cand = random_polygon(rng, cx, cy, r, n_vertices)
        if any(cand.distance(p) < 1.0 for p in polys):
            continue
        polys.append(cand)
    return polys


def random_free_points(
    polys: list[Polygon], n: int, seed: int, size_m: float = 20_000.0
) -> list[tuple[float, float]]:
    from shapely import STRtree
    from shapely.geometry import Point

    rng = random.Random(seed)
    tree = STRtree(polys)
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x, y = rng.uniform(0, size_m), rng.uniform(0, size_m)
        if len(tree.query(Point(x, y).buffer(5.0), predicate="intersects")) == 0:
            out.append((x, y))
    return out
