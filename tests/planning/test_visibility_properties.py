"""Property tests of the exact planner on random scenes, against extremitypathfinder."""

from __future__ import annotations

import math

import pytest
import shapely
from extremitypathfinder import PolygonEnvironment
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from dfr.errors import NoRoute
from dfr.planning.visibility import VisibilityGraph
from tests.planning.scene_gen import SIZE_M, east_st, point_st, scene_st, west_st

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# the peer comparison on a fixed set of scenes: on some random overlapping scenes
# extremitypathfinder itself fails (a singular matrix), which is its limit, not ours
PEER_SETTINGS = settings(SETTINGS, derandomize=True)


def _free(graph: VisibilityGraph, p: tuple[float, float]) -> bool:
    return graph.point_free(p) and all(poly.distance(Point(p)) > 0.5 for poly in graph.polygons)


@SETTINGS
@given(scene=scene_st(), start=west_st, goal=east_st)
def test_path_never_enters_an_obstacle_and_is_no_shorter_than_the_line(
    scene: list[Polygon], start: tuple[float, float], goal: tuple[float, float]
) -> None:
    graph = VisibilityGraph(scene)
    assume(_free(graph, start) and _free(graph, goal))
    try:
        path = graph.shortest_path(start, goal)
    except NoRoute:
        return  # an enclosed point (pocket between touching polygons) is allowed
    event(f"bends: {min(len(path.points_xy) - 2, 3)}")
    line = LineString(path.points_xy)
    shrunk = shapely.union_all([p.buffer(-0.03) for p in graph.polygons])
    assert not line.intersects(shrunk)
    assert path.length_m >= math.dist(start, goal) - 1e-9
    assert path.length_m == pytest.approx(line.length, rel=1e-9)
    assert path.points_xy[0] == start and path.points_xy[-1] == goal


@SETTINGS
@given(scene=scene_st(), start=point_st, goal=point_st)
def test_direct_segment_when_visible(
    scene: list[Polygon], start: tuple[float, float], goal: tuple[float, float]
) -> None:
    graph = VisibilityGraph(scene)
    assume(_free(graph, start) and _free(graph, goal))
    union = shapely.union_all(scene)
    assume(not LineString([start, goal]).intersects(union))
    path = graph.shortest_path(start, goal)
    assert path.points_xy == (start, goal)


def _extremity_length(
    polys: list[Polygon], start: tuple[float, float], goal: tuple[float, float]
) -> float | None:
    margin = 50_000.0
    boundary = [(-margin, -margin), (margin, -margin), (margin, margin), (-margin, margin)]
    holes = []
    for p in polys:
        p = shapely.orient_polygons(p, exterior_cw=True)
        holes.append(list(p.exterior.coords)[:-1])
    env = PolygonEnvironment()
    env.store(boundary, holes, validate=False)
    _, length = env.find_shortest_path(start, goal)
    return length


@PEER_SETTINGS
@given(scene=scene_st(max_polygons=6), start=west_st, goal=east_st)
def test_length_matches_extremitypathfinder(
    scene: list[Polygon], start: tuple[float, float], goal: tuple[float, float]
) -> None:
    graph = VisibilityGraph(scene)
    # the peer needs disjoint holes without holes of their own
    assume(all(len(p.interiors) == 0 for p in graph.polygons))
    assume(_free(graph, start) and _free(graph, goal))
    try:
        ours = graph.shortest_path(start, goal).length_m
    except NoRoute:
        ours = None
    theirs = _extremity_length(graph.polygons, start, goal)
    event("detour" if ours is not None and ours > math.dist(start, goal) + 1e-6 else "straight")
    if theirs is None:
        assert ours is None
        return
    assert ours is not None
    assert ours == pytest.approx(theirs, rel=1e-3)


def test_detour_around_a_wall_has_the_known_length() -> None:
    wall = Polygon([(-10, -100), (10, -100), (10, 100), (-10, 100)])
    graph = VisibilityGraph([wall])
    path = graph.shortest_path((-200.0, 0.0), (200.0, 0.0))
    # around a corner: two legs of sqrt(190² + 100²) and 20 m along the top/bottom face
    expected = 2 * math.hypot(190, 100) + 20
    assert path.length_m == pytest.approx(expected, abs=0.1)
    assert len(path.points_xy) == 4


def test_goal_in_a_closed_pocket_has_no_route() -> None:
    ring = Polygon(
        [(0, 0), (100, 0), (100, 100), (0, 100)], [[(20, 20), (80, 20), (80, 80), (20, 80)]]
    )
    graph = VisibilityGraph([ring])
    with pytest.raises(NoRoute):
        graph.shortest_path((-50.0, -50.0), (50.0, 50.0))


def test_trees_give_the_same_paths_as_queries() -> None:
    scene = [
        Polygon([(100, 100), (300, 120), (280, 400), (90, 380)]),
        Polygon([(500, 0), (700, 50), (650, 600), (520, 500)]),
        Polygon([(200, 600), (400, 650), (380, 900), (150, 800)]),
    ]
    graph = VisibilityGraph(scene)
    docks = [(0.0, 0.0), (900.0, 900.0), (0.0, 900.0)]
    trees = [graph.tree_from(d) for d in docks]
    goal = (800.0, 300.0)
    from_trees = graph.paths_from_trees(trees, goal)
    for dock, via_tree in zip(docks, from_trees, strict=True):
        assert via_tree is not None
        assert via_tree.length_m == pytest.approx(
            graph.shortest_path(dock, goal).length_m, rel=1e-9
        )
    assert SIZE_M > 0


@SETTINGS
@given(scene=scene_st(), docks=st.lists(west_st, min_size=1, max_size=4), goal=east_st)
def test_dock_trees_rank_like_direct_queries(
    scene: list[Polygon], docks: list[tuple[float, float]], goal: tuple[float, float]
) -> None:
    graph = VisibilityGraph(scene)
    assume(all(_free(graph, d) for d in docks) and _free(graph, goal))
    trees = [graph.tree_from(d) for d in docks]
    for dock, via_tree in zip(docks, graph.paths_from_trees(trees, goal), strict=True):
        try:
            direct = graph.shortest_path(dock, goal)
        except NoRoute:
            assert via_tree is None
            continue
        assert via_tree is not None
        assert via_tree.length_m == pytest.approx(direct.length_m, rel=1e-9, abs=1e-6)
        assert via_tree.points_xy[0] == dock and via_tree.points_xy[-1] == goal
