"""Geofences through the real mavsdk 4.x Geofence plugin: polygons and circles, inclusion
and exclusion, upload/download/clear, and breaches that make PX4 Hold (GF_ACTION 2).
Reference §4.1 (fence items), §4.3 (geofence behaviour), §6."""

from __future__ import annotations

import pytest
from mavsdk.asyncio.plugins.geofence import Circle, FenceType, GeofenceData, Point, Polygon
from mavsdk.asyncio.plugins.telemetry import FlightMode, LandedState, StatusText

from tests.sitl.mavsdk_session import (
    SimRig,
    Watched,
    distance_m,
    offset_deg,
)

pytestmark = pytest.mark.timeout(240)


def _square(lat: float, lon: float, half_side_m: float) -> list[Point]:
    corners = [(1, -1), (1, 1), (-1, 1), (-1, -1)]
    points = []
    for north, east in corners:
        p_lat, p_lon = offset_deg(lat, lon, north * half_side_m, east * half_side_m)
        points.append(Point(latitude_deg=p_lat, longitude_deg=p_lon))
    return points


def _key_points(points: list[Point]) -> list[tuple[float, float]]:
    return [(round(p.latitude_deg, 6), round(p.longitude_deg, 6)) for p in points]


async def test_geofence_upload_download_clear_all_kinds() -> None:
    async with SimRig(speed_factor=10.0) as rig:
        s = rig.session
        home_lat, home_lon, _ = rig.home
        await s.wait_health_all_ok()
        inclusion = Polygon(_square(home_lat, home_lon, 200.0), FenceType.INCLUSION)
        no_fly_lat, no_fly_lon = offset_deg(home_lat, home_lon, 100.0, 0.0)
        exclusion = Polygon(_square(no_fly_lat, no_fly_lon, 20.0), FenceType.EXCLUSION)
        c_lat, c_lon = offset_deg(home_lat, home_lon, -80.0, 50.0)
        keep_out = Circle(Point(c_lat, c_lon), 25.0, FenceType.EXCLUSION)
        keep_in = Circle(Point(home_lat, home_lon), 400.0, FenceType.INCLUSION)
        await s.geofence.upload_geofence(
            GeofenceData(polygons=[inclusion, exclusion], circles=[keep_out, keep_in])
        )

        got = await s.geofence.download_geofence()
        assert len(got.polygons) == 2 and len(got.circles) == 2
        by_type = {p.fence_type: p for p in got.polygons}
        assert _key_points(by_type[FenceType.INCLUSION].points) == _key_points(inclusion.points)
        assert _key_points(by_type[FenceType.EXCLUSION].points) == _key_points(exclusion.points)
        circles = {c.fence_type: c for c in got.circles}
        assert circles[FenceType.EXCLUSION].radius == pytest.approx(25.0)
        assert circles[FenceType.INCLUSION].radius == pytest.approx(400.0)
        centre = circles[FenceType.EXCLUSION].point
        assert distance_m(centre.latitude_deg, centre.longitude_deg, c_lat, c_lon) < 0.05

        await s.geofence.clear_geofence()
        cleared = await s.geofence.download_geofence()
        assert cleared.polygons == [] and cleared.circles == []


async def test_inclusion_polygon_breach_holds_then_land() -> None:
    async with SimRig(speed_factor=20.0) as rig:
        s = rig.session
        home_lat, home_lon, home_amsl_m = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        assert await s.param.get_param_int("GF_ACTION") == 2  # Hold, PX4 default
        half_side_m = 40.0
        await s.geofence.upload_geofence(
            GeofenceData(polygons=[Polygon(_square(home_lat, home_lon, half_side_m))])
        )
        await s.take_off(2.5)
        ack = await s.reposition(home_lat, home_lon, home_amsl_m + 15.0)
        assert ack.result == 0, ack
        await s.wait_alt_rel(lambda alt: alt > 14.0)

        # An orbit whose circle leaves the fence: POSCTL (orbit) until the breach, then Hold.
        centre_lat, centre_lon = offset_deg(home_lat, home_lon, 15.0, 0.0)
        radius_m = 60.0
        ack = await s.orbit(
            centre_lat, centre_lon, home_amsl_m + 15.0, radius_m=radius_m, speed_mps=5.0
        )
        assert ack.result == 0, ack
        await s.mode.wait_for(FlightMode.POSCTL)
        await s.mode.wait_for(FlightMode.HOLD)
        await s.wait_ground_speed(lambda v: v < 0.5, what="stopped after the breach")
        here = s.position.latest
        assert here is not None
        from_centre_m = distance_m(here.latitude_deg, here.longitude_deg, centre_lat, centre_lon)
        assert from_centre_m < radius_m - 5.0, "the vehicle kept orbiting outside the fence"
        from_home_m = distance_m(here.latitude_deg, here.longitude_deg, home_lat, home_lon)
        assert from_home_m > half_side_m - 5.0, "Hold came before the vehicle reached the fence"

        await s.action.land()
        await s.mode.wait_for(FlightMode.LAND)
        await s.landed.wait_for(LandedState.LANDING)
        await s.wait_landed_disarmed()


async def test_exclusion_circle_breach_stops_a_reposition() -> None:
    async with SimRig(speed_factor=20.0) as rig:
        s = rig.session
        home_lat, home_lon, home_amsl_m = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        texts: Watched[StatusText] = Watched("status_text")
        s.watch(texts, s.telemetry.subscribe_status_text)
        zone_lat, zone_lon = offset_deg(home_lat, home_lon, 50.0, 0.0)
        await s.geofence.upload_geofence(
            GeofenceData(circles=[Circle(Point(zone_lat, zone_lon), 15.0, FenceType.EXCLUSION)])
        )
        await s.take_off(2.5)
        dest_lat, dest_lon = offset_deg(home_lat, home_lon, 110.0, 0.0)
        ack = await s.reposition(dest_lat, dest_lon, home_amsl_m + 10.0)
        assert ack.result == 0, ack
        await s.wait_ground_speed(lambda v: v > 2.0, what="moving towards the zone")
        await texts.wait_until(lambda t: "geofence" in t.text.lower(), what="geofence STATUSTEXT")
        await s.wait_ground_speed(lambda v: v < 0.5, what="stopped at the zone")
        here = s.position.latest
        assert here is not None
        assert distance_m(here.latitude_deg, here.longitude_deg, dest_lat, dest_lon) > 40.0
        from_zone_m = distance_m(here.latitude_deg, here.longitude_deg, zone_lat, zone_lon)
        assert 5.0 < from_zone_m < 25.0, f"stopped {from_zone_m:.1f} m from the zone centre"
        assert s.mode.latest == FlightMode.HOLD
        await s.action.return_to_launch()
        await s.wait_landed_disarmed()
