"""Fly the simulated PX4 through the real mavsdk 4.x over real UDP: connect, takeoff,
reposition and orbit as COMMAND_INT/GLOBAL_INT via MavlinkDirect, mavsdk's own goto/orbit
refused the way PX4 main refuses them, speed change, hold, RTL to land and disarm.

Reference: /work/shared/reference/px4-sitl-behaviour.md §0, §1 (modes), §2.4, §3.
"""

from __future__ import annotations

import math

import pytest
from mavsdk.asyncio import Autopilot, Vehicle
from mavsdk.asyncio.plugins.action import ActionError, ActionResult
from mavsdk.asyncio.plugins.telemetry import FlightMode, LandedState

from tests.sitl.mavsdk_session import (
    MAV_CMD_DO_ORBIT,
    MAV_CMD_DO_REPOSITION,
    MAV_FRAME_GLOBAL,
    MAV_FRAME_GLOBAL_RELATIVE_ALT,
    MAV_RESULT_ACCEPTED,
    MAV_RESULT_COMMAND_UNSUPPORTED_MAV_FRAME,
    SimRig,
    distance_m,
    is_subsequence,
    offset_deg,
    refused_action_result,
)

pytestmark = pytest.mark.timeout(240)

TAKEOFF_ALT_M = 10.0  # MIS_TAKEOFF_ALT for this flight, relative to home
CRUISE_ALT_REL_M = 20.0


async def test_boot_state_as_mavsdk_reports_it() -> None:
    async with SimRig(speed_factor=10.0) as rig:
        s = rig.session
        assert await s.system.get_system_id() == 1
        assert await s.system.autopilot_type() == Autopilot.PX4
        assert await s.system.vehicle_type() == Vehicle.MULTICOPTER

        await s.wait_health_all_ok()
        await s.wait_armable()
        health = await s.telemetry.health()
        assert health.is_global_position_ok and health.is_local_position_ok
        assert health.is_home_position_ok and health.is_armable

        assert await s.mode.wait_for(FlightMode.HOLD) == FlightMode.HOLD
        await s.landed.wait_for(LandedState.ON_GROUND)
        assert await s.armed.wait_for(False) is False

        home = await s.telemetry.home()
        assert distance_m(home.latitude_deg, home.longitude_deg, rig.home[0], rig.home[1]) < 1.0
        assert home.absolute_altitude_m == pytest.approx(rig.home[2], abs=0.5)
        assert await s.param.get_param_float("MIS_TAKEOFF_ALT") == pytest.approx(2.5)


async def test_takeoff_reposition_orbit_speed_hold_rtl() -> None:
    async with SimRig(speed_factor=20.0, gcs_link=True) as rig:
        s = rig.session
        home_lat, home_lon, home_amsl_m = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        await s.mode.wait_for(FlightMode.HOLD)
        await s.landed.wait_for(LandedState.ON_GROUND)
        mode_mark, landed_mark = s.mode.mark(), s.landed.mark()

        # Takeoff to MIS_TAKEOFF_ALT (set through Action, read back as the param).
        await s.action.set_takeoff_altitude(TAKEOFF_ALT_M)
        assert await s.action.get_takeoff_altitude() == pytest.approx(TAKEOFF_ALT_M)
        assert await s.param.get_param_float("MIS_TAKEOFF_ALT") == pytest.approx(TAKEOFF_ALT_M)
        # Take off right after arming: COM_DISARM_PRFLT (10 s simulated) is 0.5 s at 20x.
        await s.action.arm()
        await s.action.takeoff()
        await s.wait_alt_rel(lambda alt: alt >= TAKEOFF_ALT_M - 0.5, what="takeoff altitude")
        await s.mode.wait_for(FlightMode.HOLD)
        await s.landed.wait_for(LandedState.IN_AIR)
        assert await s.armed.wait_for(True) is True
        settled = await s.position.wait_updates(20)
        assert settled.relative_altitude_m == pytest.approx(TAKEOFF_ALT_M, abs=1.0)
        takeoff_modes, takeoff_landed = s.mode.since(mode_mark), s.landed.since(landed_mark)

        # mavsdk's own goto_location / do_orbit send frames PX4 main refuses (§0): refused
        # with result 9, which mavsdk 4.1.0 reports as UNKNOWN. Result 9 wedges that Mavsdk
        # instance (tests/sitl/mavsdk_refusal.py), so each call runs in its own process.
        before = s.position.latest
        assert before is not None
        far_lat, far_lon = offset_deg(home_lat, home_lon, 80.0, 60.0)
        far_alt_amsl_m = home_amsl_m + CRUISE_ALT_REL_M
        await s.aclose()
        for what in ("goto", "orbit"):
            result = await refused_action_result(s.api_port, what, far_lat, far_lon, far_alt_amsl_m)
            assert result == ActionResult.UNKNOWN.name, (what, result)
        # The same refusals on the wire (QGC-style link): every frame but GLOBAL_INT.
        for command, params, frame in (
            (MAV_CMD_DO_REPOSITION, (-1.0, 1.0, 0.0, 0.0), MAV_FRAME_GLOBAL),
            (MAV_CMD_DO_REPOSITION, (-1.0, 1.0, 0.0, 0.0), MAV_FRAME_GLOBAL_RELATIVE_ALT),
            (MAV_CMD_DO_REPOSITION, (-1.0, 1.0, 0.0, 0.0), 6),  # GLOBAL_RELATIVE_ALT_INT
            (MAV_CMD_DO_ORBIT, (20.0, 3.0, 0.0, 0.0), MAV_FRAME_GLOBAL_RELATIVE_ALT),
        ):
            ack = await rig.gcs.command_int_ack(
                command, frame, params, far_lat, far_lon, far_alt_amsl_m
            )
            assert ack.result == MAV_RESULT_COMMAND_UNSUPPORTED_MAV_FRAME, (command, frame, ack)
        s = await rig.reconnect()
        after = await s.position.wait_updates(30)
        moved_m = distance_m(
            before.latitude_deg, before.longitude_deg, after.latitude_deg, after.longitude_deg
        )
        assert moved_m < 1.0, f"vehicle moved {moved_m:.1f} m after refused commands"
        assert after.relative_altitude_m == pytest.approx(TAKEOFF_ALT_M, abs=1.0)
        assert await s.mode.wait_for(FlightMode.HOLD) == FlightMode.HOLD

        # DO_REPOSITION as COMMAND_INT, frame GLOBAL_INT, z AMSL: accepted, flown.
        ack = await s.reposition(far_lat, far_lon, home_amsl_m + CRUISE_ALT_REL_M)
        assert ack.result == MAV_RESULT_ACCEPTED, ack
        assert ack.fields.get("command") == 192
        await s.wait_near(far_lat, far_lon, 2.0)
        arrived = await s.wait_alt_rel(lambda alt: abs(alt - CRUISE_ALT_REL_M) < 1.0)
        assert arrived.absolute_altitude_m == pytest.approx(home_amsl_m + CRUISE_ALT_REL_M, abs=1.5)
        assert s.mode.latest == FlightMode.HOLD

        # DO_ORBIT as COMMAND_INT: MAVSDK decodes PX4's ORBIT (3/1) as POSCTL.
        center_lat, center_lon = offset_deg(far_lat, far_lon, 0.0, 40.0)
        radius_m = 25.0
        ack = await s.orbit(
            center_lat, center_lon, home_amsl_m + CRUISE_ALT_REL_M, radius_m=radius_m, speed_mps=5.0
        )
        assert ack.result == MAV_RESULT_ACCEPTED, ack
        await s.mode.wait_for(FlightMode.POSCTL)

        def on_circle(p: object) -> bool:
            d = distance_m(p.latitude_deg, p.longitude_deg, center_lat, center_lon)  # type: ignore[attr-defined]
            return abs(d - radius_m) < 3.0

        first = await s.position.wait_until(on_circle, what="on the orbit circle")

        def bearing_deg(p: object) -> float:
            north = (p.latitude_deg - center_lat) * 111_195.0  # type: ignore[attr-defined]
            east = (p.longitude_deg - center_lon) * 111_195.0 * math.cos(math.radians(center_lat))  # type: ignore[attr-defined]
            return math.degrees(math.atan2(east, north))

        start_bearing = bearing_deg(first)

        def went_round(p: object) -> bool:
            turned = abs((bearing_deg(p) - start_bearing + 180.0) % 360.0 - 180.0)
            return on_circle(p) and turned > 120.0

        await s.position.wait_until(went_round, what="120 degrees around the orbit")
        assert s.mode.latest == FlightMode.POSCTL

        # Hold stops the orbit.
        await s.action.hold()
        await s.mode.wait_for(FlightMode.HOLD)
        await s.wait_ground_speed(lambda v: v < 0.5, what="stopped in Hold")

        # set_current_speed (DO_CHANGE_SPEED) during a long reposition slows the vehicle.
        dest_lat, dest_lon = offset_deg(home_lat, home_lon, -250.0, 0.0)
        ack = await s.reposition(dest_lat, dest_lon, home_amsl_m + CRUISE_ALT_REL_M)
        assert ack.result == MAV_RESULT_ACCEPTED, ack
        await s.wait_ground_speed(lambda v: v > 4.0, what="cruising at MPC_XY_CRUISE")
        await s.action.set_current_speed(2.0)
        await s.wait_ground_speed(lambda v: v < 2.3, what="slowed to 2 m/s")
        still_far = s.position.latest
        assert still_far is not None
        assert (
            distance_m(still_far.latitude_deg, still_far.longitude_deg, dest_lat, dest_lon) > 20.0
        )
        await s.action.hold()
        await s.wait_ground_speed(lambda v: v < 0.5, what="stopped in Hold")

        # RTL: climb/return/land at home and disarm.
        mode_mark, landed_mark = s.mode.mark(), s.landed.mark()
        await s.action.return_to_launch()
        await s.mode.wait_for(FlightMode.RETURN_TO_LAUNCH)
        await s.landed.wait_for(LandedState.LANDING, timeout_s=90.0)
        await s.wait_landed_disarmed()
        landed_at = s.position.latest
        assert landed_at is not None
        assert distance_m(landed_at.latitude_deg, landed_at.longitude_deg, home_lat, home_lon) < 3.0
        assert landed_at.relative_altitude_m == pytest.approx(0.0, abs=0.5)
        assert is_subsequence(
            [LandedState.IN_AIR, LandedState.LANDING, LandedState.ON_GROUND],
            s.landed.since(landed_mark),
        ), s.landed.since(landed_mark)
        assert FlightMode.RETURN_TO_LAUNCH in s.mode.since(mode_mark)
        assert await s.telemetry.armed() is False
        assert rig.vehicle.snapshot().armed is False

        # The takeoff transitions, as MAVSDK reported them (checked last so that a missed
        # transient does not hide the rest of the flight).
        assert is_subsequence(
            [FlightMode.HOLD, FlightMode.TAKEOFF, FlightMode.HOLD], takeoff_modes
        ), takeoff_modes
        assert is_subsequence(
            [LandedState.ON_GROUND, LandedState.TAKING_OFF, LandedState.IN_AIR], takeoff_landed
        ), takeoff_landed


async def test_land_command_lands_and_disarms() -> None:
    async with SimRig(speed_factor=20.0) as rig:
        s = rig.session
        await s.wait_health_all_ok()
        await s.wait_armable()
        await s.take_off(2.5)
        mode_mark, landed_mark = s.mode.mark(), s.landed.mark()
        await s.action.land()
        await s.mode.wait_for(FlightMode.LAND)
        await s.wait_landed_disarmed()
        assert is_subsequence(
            [LandedState.IN_AIR, LandedState.LANDING, LandedState.ON_GROUND],
            s.landed.since(landed_mark),
        ), s.landed.since(landed_mark)
        assert FlightMode.LAND in s.mode.since(mode_mark)


async def test_disarm_refused_in_air() -> None:
    async with SimRig(speed_factor=20.0) as rig:
        s = rig.session
        await s.wait_health_all_ok()
        await s.wait_armable()
        await s.take_off(2.5)
        with pytest.raises(ActionError) as refused:
            await s.action.disarm()
        assert refused.value.result == ActionResult.COMMAND_DENIED
        assert await s.telemetry.armed() is True
        await s.action.land()
        await s.wait_landed_disarmed()
