"""The planner's public API on the Fort Worth sample site."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, Point

from dfr.cli import main
from dfr.errors import PlanningError
from dfr.geo.qgc_plan import parse_plan
from dfr.geo.zone import ZoneKind
from dfr.planning.mission import MAV_CMD_NAV_LOITER_UNLIM, MAV_CMD_NAV_TAKEOFF, MAV_CMD_NAV_WAYPOINT
from dfr.planning.planner import Planner
from dfr.planning.wind import Wind
from dfr.site import load_site

SITE = Path(__file__).resolve().parents[2] / "flightplans" / "fort-worth"
QUIET = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # no stadium event
GAME = datetime(2026, 12, 13, 19, 0, tzinfo=UTC)  # AT&T Stadium TFR active (sample window)
DOWNTOWN = (32.7555, -97.3308)
JPS = (32.7274, -97.3272)
BEHIND_JPS = (32.745, -97.3265)  # seen from HQ, straight behind the JPS heliport


@pytest.fixture(scope="module")
def planner() -> Planner:
    return Planner.from_site(load_site(SITE))


def _assert_legal(
    planner: Planner, points_xy: tuple[tuple[float, float], ...], at: datetime
) -> None:
    obstacles = planner.obstacles(at)
    shrunk = shapely.union_all([p.buffer(-0.03) for p in obstacles.polygons])
    assert not LineString(points_xy).intersects(shrunk)


def test_site_airspace_loads_with_every_kind(planner: Planner) -> None:
    kinds = {z.kind for z in planner.airspace.zones}
    assert kinds == {ZoneKind.NO_FLY, ZoneKind.CEILING, ZoneKind.BOUNDARY}
    assert len(planner.airspace.zones) > 500
    # every dock can launch at cruise altitude
    assert set(planner.prepare(QUIET).dock_trees) == {"hq", "north", "northwest", "south"}


def test_downtown_is_not_grounded_by_meacham(planner: Planner) -> None:
    planner.check_goto(*DOWNTOWN, 60.0, at=QUIET)
    route = planner.plan_route("fw1", *DOWNTOWN, at=QUIET)
    assert not route.authorisation_required
    _assert_legal(planner, route.points_xy, QUIET)


def test_route_around_the_hospital_heliports(planner: Planner) -> None:
    route = planner.plan_route("fw1", *BEHIND_JPS, at=QUIET)
    straight = math.dist(route.points_xy[0], route.points_xy[-1])
    assert len(route.waypoints) > 2
    assert route.distance_m > straight
    _assert_legal(planner, route.points_xy, QUIET)
    geo = route.to_geojson()
    assert geo["geometry"]["type"] == "LineString"
    assert geo["properties"]["distance_m"] == pytest.approx(route.distance_m, abs=0.1)
    assert len(geo["properties"]["legs"]) == len(route.waypoints) - 1
    assert geo["geometry"]["coordinates"][0] == [-97.329, 32.68]


def test_rank_orders_by_eta_and_explains_rejections(planner: Planner) -> None:
    ranked = planner.rank(*DOWNTOWN, at=QUIET)
    assert next(c.drone_id for c in ranked) == "fw1"
    assert {c.drone_id for c in ranked} == {"fw1", "fw2", "fw3", "fw4"}
    feasible = [c for c in ranked if c.feasible]
    assert [c.eta_s for c in feasible] == sorted(c.eta_s for c in feasible)
    for c in ranked:
        assert c.route is not None
        assert c.feasible == (not c.reasons)
        # ranking uses the same routes as planning one drone
        assert c.distance_m == pytest.approx(
            planner.plan_route(c.drone_id, *DOWNTOWN, at=QUIET).distance_m
        )


def test_low_battery_drone_is_rejected_with_energy_reason(planner: Planner) -> None:
    ranked = planner.rank(*DOWNTOWN, at=QUIET, charge_frac={"fw1": 0.35})
    fw1 = next(c for c in ranked if c.drone_id == "fw1")
    assert not fw1.feasible and "reserve" in fw1.reasons[0]


def test_headwind_lengthens_eta(planner: Planner) -> None:
    calm = planner.plan_route("fw1", *DOWNTOWN, at=QUIET)
    # HQ -> downtown is northbound: wind from the north is a headwind
    windy = planner.plan_route("fw1", *DOWNTOWN, wind=Wind(0.0, 8.0), at=QUIET)
    # planned (model) durations from the wind triangle, not wall-clock measurements
    assert windy.eta_s > calm.eta_s * 1.5


def test_scene_inside_a_heliport_core_needs_authorisation(planner: Planner) -> None:
    route = planner.plan_route("fw1", *JPS, at=QUIET)
    assert route.authorisation_required
    assert any("JPS" in note for note in route.notes)
    assert planner.prepare(QUIET).graph.point_free(route.points_xy[-1])
    _assert_legal(planner, route.points_xy, QUIET)


def test_start_inside_a_zone_is_a_planning_error(planner: Planner) -> None:
    with pytest.raises(PlanningError, match="JPS"):
        planner.plan_route("fw1", *DOWNTOWN, start=JPS, at=QUIET)


def test_pilot_checks_name_the_zone_and_the_amount(planner: Planner) -> None:
    with pytest.raises(PlanningError, match=r"goto .* is \d+ m inside 'JPS"):
        planner.check_goto(*JPS, 60.0, at=QUIET)
    # a 100 ft (30.5 m) cell of Meacham's grid
    cell = next(z for z in planner.airspace.zones if z.name == "FTW Class D grid 100 ft")
    centre = cell.geometry_lonlat.centroid
    with pytest.raises(
        PlanningError, match=r"altitude 60 m is 30 m above the ceiling of 'FTW Class D grid 100 ft"
    ):
        planner.check_altitude(centre.y, centre.x, 60.0, at=QUIET)
    planner.check_altitude(centre.y, centre.x, 20.0, at=QUIET)
    with pytest.raises(PlanningError, match="orbit of 400 m"):
        planner.check_orbit(32.7300, -97.3200, 400.0, 60.0, at=QUIET)
    planner.check_orbit(*DOWNTOWN, 60.0, 60.0, at=QUIET)
    with pytest.raises(PlanningError, match="outside the operating boundary"):
        planner.check_goto(32.70, -96.90, 60.0, at=QUIET)


def test_stadium_tfr_only_during_the_event(planner: Planner) -> None:
    near_stadium = (32.7478, -97.1200)  # ~2.6 km west of AT&T Stadium
    planner.check_goto(*near_stadium, 60.0, at=QUIET)
    with pytest.raises(PlanningError, match="AT&T Stadium"):
        planner.check_goto(*near_stadium, 60.0, at=GAME)
    quiet = planner.obstacles(QUIET)
    game = planner.obstacles(GAME)
    assert quiet.content_hash != game.content_hash
    route = planner.plan_route("fw1", 32.70, -97.13, at=GAME)
    _assert_legal(planner, route.points_xy, GAME)


def test_mission_items_fly_the_route_at_cruise_altitude(planner: Planner) -> None:
    route = planner.plan_route("fw1", *BEHIND_JPS, at=QUIET)
    items = planner.mission_items(route)
    assert items[0].command == MAV_CMD_NAV_TAKEOFF
    assert (items[0].lat, items[0].lon) == (32.68, -97.329)
    assert [i.command for i in items[1:-1]] == [MAV_CMD_NAV_WAYPOINT] * (len(route.waypoints) - 1)
    assert items[-1].command == MAV_CMD_NAV_LOITER_UNLIM
    assert (items[-1].lat, items[-1].lon) == (route.scene.lat, route.scene.lon)
    assert all(i.alt_rel_m == 60 and i.speed_mps == 15 for i in items)
    assert [i.seq for i in items] == list(range(len(items)))


def test_geofence_fits_px4_and_covers_nearby_zones(planner: Planner) -> None:
    route = planner.plan_route("fw1", *BEHIND_JPS, at=QUIET)
    fence = planner.geofence(route, at=QUIET)
    limits = planner.fence_limits
    assert fence.item_count <= limits.max_items
    assert all(3 <= len(p.vertices) <= limits.max_polygon_vertices for p in fence.polygons)
    assert [p.inclusion for p in fence.polygons].count(True) == 1
    assert {"jps-heliport", "cook-heliport"} <= {c.zone_id for c in fence.circles}
    items = fence.items()
    assert len(items) == fence.item_count
    assert {i.command for i in items} <= {5001, 5002, 5003, 5004}
    # the route itself stays inside the inclusion polygon and outside every exclusion
    inclusion = next(p for p in fence.polygons if p.inclusion)
    frame = planner.frame
    incl_xy = shapely.Polygon([frame.to_xy(lat, lon) for lat, lon in inclusion.vertices])
    line = LineString(route.points_xy)
    assert incl_xy.contains(line)
    for c in fence.circles:
        assert line.distance(Point(frame.to_xy(c.lat, c.lon))) > c.radius_m


def test_plan_output_reads_back_through_the_loader(planner: Planner) -> None:
    route = planner.plan_route("fw1", *BEHIND_JPS, at=QUIET)
    doc = planner.qgc_plan(route, at=QUIET)
    back = parse_plan(json.loads(json.dumps(doc)), "route.plan", id_prefix="route")
    fence = planner.geofence(route, at=QUIET)
    assert len(back.zones) == len(fence.polygons) + len(fence.circles)
    assert [z.kind for z in back.zones].count(ZoneKind.BOUNDARY) == 1
    radii = sorted(z.circle.radius_m for z in back.zones if z.circle is not None)
    assert radii == sorted(c.radius_m for c in fence.circles)
    mission = doc["mission"]["items"]
    assert [it["params"][4:6] for it in mission[1:-1]] == [
        [w.lat, w.lon] for w in route.waypoints[1:]
    ]


def test_energy_to_home_matches_the_planned_return(planner: Planner) -> None:
    route = planner.plan_route("fw1", *BEHIND_JPS, at=QUIET)
    home = planner.energy_to_home("fw1", route.scene.lat, route.scene.lon, 60.0, at=QUIET)
    assert home.feasible
    assert home.distance_m == pytest.approx(route.distance_m, rel=1e-6)
    assert home.energy_wh == pytest.approx(route.estimate.return_energy_wh, rel=1e-6)
    windy = planner.energy_to_home(
        "fw1", route.scene.lat, route.scene.lon, 60.0, wind=Wind(180, 8), at=QUIET
    )
    # planned (model) durations from the wind triangle, not wall-clock measurements
    assert windy.time_s > home.time_s


def test_airspace_geojson_for_the_map(planner: Planner) -> None:
    doc = planner.airspace_geojson(at=QUIET)
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == len(planner.airspace.zones)
    att = next(f for f in doc["features"] if f["properties"]["id"] == "att-stadium")
    assert att["properties"]["active"] is False and att["geometry"]["type"] == "Polygon"


def test_cli_geojson(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "--site", str(SITE), "--from", "32.68,-97.329", "--to", "32.745,-97.3265"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["type"] == "Feature" and doc["properties"]["distance_m"] > 7000
    assert {"eta_s", "energy_wh", "legs"} <= set(doc["properties"])


def test_cli_plan_and_rank(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "plan",
                "--site",
                str(SITE),
                "--to",
                "32.745,-97.3265",
                "--format",
                "plan",
                "--wind",
                "90,5",
            ]
        )
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert plan["fileType"] == "Plan" and plan["geoFence"]["circles"]
    assert main(["plan", "--site", str(SITE), "--to", "32.745,-97.3265", "--rank"]) == 0
    ranking = json.loads(capsys.readouterr().out)
    assert next(c["drone_id"] for c in ranking["candidates"]) == "fw1"


def test_cli_errors_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["plan", "--site", str(SITE), "--from", "32.7274,-97.3272", "--to", "32.745,-97.3265"]
    )
    assert code == 2
    assert "JPS" in capsys.readouterr().err
    assert main(["plan", "--site", str(SITE), "--to", "32.745,-97.3265", "--drone", "nope"]) == 2
    assert "no drone 'nope'" in capsys.readouterr().err


def test_geofence_merges_adjacent_ceiling_cells(planner: Planner) -> None:
    # past Meacham: the route skirts its low cells, which must be fenced as merged polygons
    route = planner.plan_route("fw3", 32.80, -97.33, at=QUIET)
    fence = planner.geofence(route, at=QUIET)
    assert fence.item_count <= planner.fence_limits.max_items
    assert any("merged" in p.zone_id for p in fence.polygons if not p.inclusion)
    frame = planner.frame
    line = LineString(route.points_xy)
    for p in fence.polygons:
        shape = shapely.Polygon([frame.to_xy(lat, lon) for lat, lon in p.vertices])
        assert shape.contains(line) if p.inclusion else not shape.intersects(line)


def test_legal_path_for_a_goto_goes_around(planner: Planner) -> None:
    start = (32.7150, -97.3260)  # south of the JPS heliport
    target = (32.7400, -97.3285)  # north of it
    path = planner.legal_path(*start, *target, at=QUIET)
    assert (path[0].lat, path[0].lon) == start and (path[-1].lat, path[-1].lon) == target
    assert len(path) > 2
    frame = planner.frame
    line = LineString([frame.to_xy(w.lat, w.lon) for w in path])
    jps = planner.airspace.geometry_xy("jps-heliport")
    assert line.distance(jps) >= 50 - 0.1  # its buffer
    with pytest.raises(PlanningError, match=r"target is not legal.*JPS"):
        planner.legal_path(*start, *JPS, at=QUIET)


def test_clearance_to_the_nearest_zone(planner: Planner) -> None:
    assert planner.clearance_m(*JPS, 60.0, at=QUIET) < -300  # 300 m core + 50 m buffer
    assert planner.clearance_m(*DOWNTOWN, 60.0, at=QUIET) > 0
    # ceiling cells do not matter at 10 m
    cell = next(z for z in planner.airspace.zones if z.name == "FTW Class D grid 100 ft")
    c = cell.geometry_lonlat.centroid
    assert planner.clearance_m(c.y, c.x, 60.0, at=QUIET) < 0
    assert planner.clearance_m(c.y, c.x, 10.0, at=QUIET) > 0


def test_site_plan_file_adds_closures_and_rally_points(planner: Planner) -> None:
    zone = planner.airspace.zone("rally-and-closures-circle-0")
    assert zone.kind is ZoneKind.NO_FLY and zone.circle is not None
    assert len(planner.rally_points) == 4
    with pytest.raises(PlanningError, match="rally-and-closures exclusion circle 0"):
        planner.check_goto(32.7229, -97.3575, 60.0, at=QUIET)


def test_energy_to_home_from_inside_an_authorised_zone(planner: Planner) -> None:
    home = planner.energy_to_home("fw1", *JPS, 40.0, at=QUIET)
    assert home.feasible
    # first leg leaves the heliport core, the rest is legal
    assert home.points_xy[0] == pytest.approx(planner.frame.to_xy(*JPS))
    _assert_legal(planner, home.points_xy[1:], QUIET)
    assert home.distance_m > math.dist(home.points_xy[0], home.points_xy[-1]) - 1e-6
    # climbing back to cruise costs time and energy on top of flying
    low = planner.energy_to_home("fw1", *JPS, 10.0, at=QUIET)
    # planned (model) durations from the wind triangle, not wall-clock measurements
    assert low.time_s > home.time_s
