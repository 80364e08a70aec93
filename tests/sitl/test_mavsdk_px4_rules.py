"""PX4's strict rules as a real mavsdk 4.x ground station meets them: Mission mode refused
until the navigator has checked the mission against the freshly uploaded fence, arming in
Mission without a valid mission, the preflight auto-disarm, a reposition into a fence.

Sources: PX4 main 02e73e3 (Commander.cpp, UserModeIntention.cpp, navigator/mission_base.cpp,
navigator/navigator_main.cpp); behaviour seen on real PX4 SITL: reference §0 and the
2026-12 measurement (the first boot refused Mission 50 ms after arming, then disarmed by
auto preflight disarming ~11 s later). Durations are asserted in vehicle time only.
"""

from __future__ import annotations

import pytest
from mavsdk.asyncio.plugins.geofence import Circle, FenceType, GeofenceData, Point
from mavsdk.asyncio.plugins.mission import MissionError, MissionItem, MissionPlan
from mavsdk.asyncio.plugins.telemetry import FlightMode, LandedState, StatusText

from tests.sitl.mavsdk_session import MavsdkSession, SimRig, Watched, distance_m, offset_deg

pytestmark = pytest.mark.timeout(240)

MAV_CMD_COMPONENT_ARM_DISARM = 400
MAV_RESULT_TEMPORARILY_REJECTED = 1

NOT_AVAILABLE = "Switching to Mission is currently not available"


def _route(lat: float, lon: float) -> MissionPlan:
    items = []
    for north, east in ((120.0, 0.0), (120.0, 120.0)):
        p_lat, p_lon = offset_deg(lat, lon, north, east)
        items.append(
            MissionItem(
                latitude_deg=p_lat,
                longitude_deg=p_lon,
                relative_altitude_m=20.0,
                speed_m_s=8.0,
                is_fly_through=True,
                acceptance_radius_m=5.0,
            )
        )
    return MissionPlan(items)


def _watch_texts(s: MavsdkSession) -> Watched[StatusText]:
    texts: Watched[StatusText] = Watched("status_text")
    s.watch(texts, s.telemetry.subscribe_status_text)
    return texts


def _seen(texts: Watched[StatusText], needle: str) -> list[str]:
    return [t.text for t in texts.history if needle in t.text]


async def test_mission_start_right_after_uploads_is_refused_then_flies() -> None:
    # 5x: PX4's 11 s to preflight-disarm are 2.2 s of wall time, room for the retry
    async with SimRig(speed_factor=5.0) as rig:
        s, v = rig.session, rig.vehicle
        lat, lon, _ = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        texts = _watch_texts(s)
        zone_lat, zone_lon = offset_deg(lat, lon, -300.0, 0.0)
        await s.mission.upload_mission(_route(lat, lon))
        # the fence last: the navigator reloads it (FENCE_LOAD_S), then checks the mission
        await s.geofence.upload_geofence(
            GeofenceData(circles=[Circle(Point(zone_lat, zone_lon), 50.0, FenceType.EXCLUSION)])
        )
        await s.action.arm()
        with pytest.raises(MissionError):  # ACK TEMPORARILY_REJECTED
            await s.mission.start_mission()
        await texts.wait_until(lambda t: NOT_AVAILABLE in t.text, what="PX4's refusal text")
        assert v.armed and v.snapshot().nav_state == "hold"
        assert v.snapshot().landed_state == "on_ground"
        # the same request a moment later flies, as on real PX4
        while not v.navigator.mission_runnable():
            await s.position.wait_updates(1)
        await s.mission.start_mission()
        await s.mode.wait_for(FlightMode.MISSION)
        await s.landed.wait_for(LandedState.IN_AIR)
        assert _seen(texts, "Takeoff detected") and _seen(texts, "Climb to 20.0 meters")


async def test_a_refused_start_on_the_pad_ends_in_auto_preflight_disarming() -> None:
    async with SimRig(speed_factor=10.0) as rig:
        s, v = rig.session, rig.vehicle
        lat, lon, _ = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        texts = _watch_texts(s)
        zone_lat, zone_lon = offset_deg(lat, lon, -300.0, 0.0)
        await s.mission.upload_mission(_route(lat, lon))
        await s.geofence.upload_geofence(
            GeofenceData(circles=[Circle(Point(zone_lat, zone_lon), 50.0, FenceType.EXCLUSION)])
        )
        armed_before_s = v.time_s
        await s.action.arm()
        with pytest.raises(MissionError):
            await s.mission.start_mission()
        await s.armed.wait_for(False)
        text = await texts.wait_until(lambda t: t.text.startswith("Disarmed"))
        assert text.text.rstrip("\t") == "Disarmed by auto preflight disarming"
        # COM_SPOOLUP_TIME 1 s + COM_DISARM_PRFLT 10 s of vehicle time after arming
        assert v.time_s - armed_before_s >= 11.0
        assert s.mode.latest == FlightMode.HOLD


async def test_arming_in_mission_without_a_valid_mission_is_refused() -> None:
    async with SimRig(speed_factor=10.0) as rig:
        s, v = rig.session, rig.vehicle
        lat, lon, _ = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        texts = _watch_texts(s)
        # the last waypoint inside an exclusion circle (item 3: mavsdk adds a DO_CHANGE_SPEED)
        wp_lat, wp_lon = offset_deg(lat, lon, 120.0, 120.0)
        await s.geofence.upload_geofence(
            GeofenceData(circles=[Circle(Point(wp_lat, wp_lon), 30.0, FenceType.EXCLUSION)])
        )
        await s.mission.upload_mission(_route(lat, lon))
        await texts.wait_until(lambda t: "Geofence violation for waypoint" in t.text)
        await s.mission.start_mission()  # disarmed: PX4 lets any mode be selected
        await s.mode.wait_for(FlightMode.MISSION)
        # mavsdk's Action.arm() switches a PX4 that is in Mission to Hold before it arms
        # (seen on the wire), so send the bare arm command
        ack = await s.command_int(MAV_CMD_COMPONENT_ARM_DISARM, frame=5, params=(1, 0, 0, 0))
        assert ack.result == MAV_RESULT_TEMPORARILY_REJECTED
        await texts.wait_until(lambda t: "Resolve system health failures" in t.text)
        assert not v.armed


async def test_reposition_into_an_exclusion_zone_is_accepted_and_the_vehicle_stays() -> None:
    async with SimRig(speed_factor=20.0) as rig:
        s, v = rig.session, rig.vehicle
        lat, lon, ground_m = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        zone_lat, zone_lon = offset_deg(lat, lon, 0.0, 300.0)
        await s.geofence.upload_geofence(
            GeofenceData(circles=[Circle(Point(zone_lat, zone_lon), 100.0, FenceType.EXCLUSION)])
        )
        await s.take_off(2.5)
        texts = _watch_texts(s)
        here = s.position.latest
        assert here is not None
        ack = await s.reposition(zone_lat, zone_lon, ground_m + 20.0)
        assert ack.result == 0, ack  # accepted on the wire ...
        await texts.wait_until(lambda t: "Reposition is outside geofence" in t.text)
        start_s = v.time_s
        while v.time_s - start_s < 15.0:  # ... and not flown: 15 s of vehicle time
            await s.position.wait_updates(5)
        now = s.position.latest
        assert now is not None
        moved_m = distance_m(
            here.latitude_deg, here.longitude_deg, now.latitude_deg, now.longitude_deg
        )
        assert moved_m < 5.0, f"moved {moved_m:.1f} m"
        assert s.mode.latest == FlightMode.HOLD
        await s.action.land()
        await s.wait_landed_disarmed()


async def test_mission_climb_is_tko_speed_below_10_m_then_z_v_auto_up() -> None:
    async with SimRig(speed_factor=5.0) as rig:
        s = rig.session
        lat, lon, _ = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        plan = _route(lat, lon)
        for item in plan.mission_items:
            item.relative_altitude_m = 40.0
        await s.mission.upload_mission(plan)
        await s.action.arm()
        await s.mission.start_mission()
        climb: list[tuple[float, float]] = []  # (height above home, climb rate)

        def record(p: object) -> bool:
            velocity = s.velocity.latest
            if velocity is not None:
                climb.append((p.relative_altitude_m, -velocity.down_m_s))  # type: ignore[attr-defined]
            return bool(p.relative_altitude_m > 38.0)  # type: ignore[attr-defined]

        await s.position.wait_until(record, what="climbed to 38 m")
        low = [vz for alt, vz in climb if 3.0 < alt < 8.0]  # MPC_TKO_SPEED 1.5
        high = [vz for alt, vz in climb if 15.0 < alt < 32.0]  # MPC_Z_V_AUTO_UP 3
        assert low and high
        assert min(low) >= 1.1 and max(low) <= 1.6, low
        assert min(high) >= 2.6 and max(high) <= 3.1, high
