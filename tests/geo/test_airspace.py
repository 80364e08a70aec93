"""Airspace compilation: buffers, altitude bands, time windows, boundary, content hash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import shapely
from shapely.geometry import Point, Polygon

from dfr.geo.airspace import Airspace, outward_simplify
from dfr.geo.frame import LocalFrame, geodesic_distance_m
from dfr.geo.zone import ActiveWindow, Circle, Zone, ZoneKind

FRAME = LocalFrame(32.75, -97.33)


def _square(frame: LocalFrame, cx: float, cy: float, half_m: float) -> Polygon:
    pts = [
        (cx - half_m, cy - half_m),
        (cx + half_m, cy - half_m),
        (cx + half_m, cy + half_m),
        (cx - half_m, cy + half_m),
    ]
    lonlat = frame.xy_to_lonlat(shapely.get_coordinates(Polygon(pts)))
    return Polygon(lonlat)


def _circle_zone(zid: str, x: float, y: float, r: float, **kw: object) -> Zone:
    lat, lon = FRAME.to_latlon(x, y)
    return Zone(
        id=zid,
        kind=ZoneKind.NO_FLY,
        name=zid,
        geometry_lonlat=Point(lon, lat),
        circle=Circle(lat, lon, r),
        **kw,
    )  # type: ignore[arg-type]


def test_frame_round_trip_and_distances() -> None:
    x, y = FRAME.to_xy(32.80, -97.30)
    lat, lon = FRAME.to_latlon(x, y)
    assert (lat, lon) == pytest.approx((32.80, -97.30), abs=1e-9)
    geodesic = geodesic_distance_m(32.75, -97.33, 32.80, -97.30)
    assert (x**2 + y**2) ** 0.5 == pytest.approx(geodesic, rel=1e-6)  # exact from the origin


def test_buffer_edges_stay_outside_the_true_buffer() -> None:
    zone = _circle_zone("c", 0, 0, 500, buffer_m=150)
    obstacles = Airspace([zone], FRAME).obstacles(60)
    (poly,) = obstacles.polygons
    # every point of the obstacle's boundary is at least 650 m from the centre (no chord cuts in)
    assert poly.exterior.distance(Point(0, 0)) >= 650 - 1e-6
    assert poly.contains(Point(0, 0).buffer(649.9, quad_segs=64))


def test_outward_simplify_never_shrinks() -> None:
    wiggly = Point(0, 0).buffer(1000, quad_segs=64)
    simple = outward_simplify(wiggly, 5.0)
    assert simple.covers(wiggly)
    assert len(simple.exterior.coords) < len(wiggly.exterior.coords)


def test_ceiling_cells_block_only_when_below_cruise_plus_margin() -> None:
    low = Zone("low", ZoneKind.CEILING, "low", _square(FRAME, 0, 0, 200), ceiling_m=30.5)
    high = Zone("high", ZoneKind.CEILING, "high", _square(FRAME, 2000, 0, 200), ceiling_m=91.4)
    airspace = Airspace([low, high], FRAME)
    assert airspace.obstacles(60, vertical_margin_m=10).zone_ids == ("low",)
    assert set(airspace.obstacles(85, vertical_margin_m=10).zone_ids) == {"low", "high"}


def test_time_windows_switch_zones_and_the_hash() -> None:
    window = ActiveWindow(
        datetime(2026, 11, 26, 20, 30, tzinfo=UTC), datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
    )
    tfr = _circle_zone("tfr", 0, 0, 5556, windows=(window,))
    pad = _circle_zone("pad", 9000, 0, 300)
    airspace = Airspace([tfr, pad], FRAME)
    before = airspace.obstacles(60, at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    during = airspace.obstacles(60, at=datetime(2026, 11, 26, 22, 0, tzinfo=UTC))
    assert before.zone_ids == ("pad",)
    assert set(during.zone_ids) == {"tfr", "pad"}
    assert before.content_hash != during.content_hash
    # cached: the same object for the same active set
    assert airspace.obstacles(60, at=datetime(2026, 11, 26, 13, 0, tzinfo=UTC)) is before


def test_boundary_becomes_the_hole_of_a_frame() -> None:
    city = Zone("city", ZoneKind.BOUNDARY, "city", _square(FRAME, 0, 0, 5000), buffer_m=200)
    obstacles = Airspace([city], FRAME).obstacles(60)
    (frame_poly,) = obstacles.polygons
    assert len(frame_poly.interiors) == 1
    assert not frame_poly.intersects(Point(4700, 0))
    assert frame_poly.intersects(Point(4900, 0))  # inside the boundary but within its margin
    assert frame_poly.intersects(Point(6000, 0))


def test_violations_say_how_deep() -> None:
    pad = _circle_zone("pad", 0, 0, 300, buffer_m=50)
    airspace = Airspace([pad], FRAME)
    (v,) = airspace.violations(Point(100, 0), 60)
    assert v.depth_m == pytest.approx(250, abs=2)
    assert "250 m inside 'pad'" in v.message("goto")
    assert airspace.violations(Point(400, 0), 60) == []


def test_geojson_output_has_every_zone_with_active_flag() -> None:
    window = ActiveWindow(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    airspace = Airspace([_circle_zone("tfr", 0, 0, 1000, windows=(window,))], FRAME)
    doc = airspace.to_geojson(at=datetime(2026, 6, 1, tzinfo=UTC))
    (feature,) = doc["features"]
    assert feature["properties"]["active"] is False
    assert feature["geometry"]["type"] == "Polygon"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert geodesic_distance_m(32.75, -97.33, lat, lon) == pytest.approx(1000, rel=1e-3)
