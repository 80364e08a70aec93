"""Small random obstacle scenes (metres) for the planner's property tests."""

from __future__ import annotations

import math

import shapely
from hypothesis import strategies as st
from shapely.geometry import Polygon

SIZE_M = 2000.0


@st.composite
def polygon_st(draw: st.DrawFn) -> Polygon:
    cx = draw(st.floats(300, SIZE_M - 300))
    cy = draw(st.floats(500, SIZE_M - 500))
    r = draw(st.floats(150, 450))
    n = draw(st.integers(3, 9))
    angles = sorted(draw(st.lists(st.floats(0, 2 * math.pi), min_size=n, max_size=n, unique=True)))
    radii = draw(st.lists(st.floats(0.35, 1.0), min_size=n, max_size=n))
    pts = [
        (cx + r * k * math.cos(a), cy + r * k * math.sin(a))
        for a, k in zip(angles, radii, strict=True)
    ]
    poly = Polygon(pts)
    if not poly.is_valid or poly.area < 100:
        poly = shapely.convex_hull(Polygon(pts)).buffer(0)
    return poly


@st.composite
def scene_st(draw: st.DrawFn, max_polygons: int = 8) -> list[Polygon]:
    return draw(st.lists(polygon_st(), min_size=3, max_size=max_polygons))


point_st = st.tuples(st.floats(0, SIZE_M), st.floats(0, SIZE_M))
# opposite edges of the scene: most pairs have to go around something
west_st = st.tuples(st.floats(0, 150), st.floats(600, SIZE_M - 600))
east_st = st.tuples(st.floats(SIZE_M - 150, SIZE_M), st.floats(600, SIZE_M - 600))
