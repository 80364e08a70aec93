"""Failsafes as MAVSDK sees them: failure injection (GPS off), low battery, data-link loss.
Reference §6 (failsafe params, COM_FAIL_ACT_T, failure injection), §5.6 (battery)."""

from __future__ import annotations

import pytest
from mavsdk.asyncio.plugins.failure import FailureError, FailureResult, FailureType, FailureUnit
from mavsdk.asyncio.plugins.telemetry import Battery, FlightMode, LandedState

from tests.sitl.mavsdk_session import (
    SimRig,
    Watched,
    distance_m,
    is_subsequence,
    offset_deg,
    wait_snapshot,
)

pytestmark = pytest.mark.timeout(240)


async def test_gps_failure_injection_triggers_failsafe_landing() -> None:
    async with SimRig(speed_factor=20.0) as rig:
        s = rig.session
        await s.wait_health_all_ok()
        await s.wait_armable()

        # Gate: with SYS_FAILURE_EN 0, MAVSDK refuses without sending (reads the param first).
        with pytest.raises(FailureError) as gated:
            await s.failure.inject(FailureUnit.SENSOR_GPS, FailureType.OFF, 0)
        assert gated.value.result == FailureResult.DISABLED
        await s.param.set_param_int("SYS_FAILURE_EN", 1)

        await s.action.set_takeoff_altitude(30.0)  # a descent long enough to watch
        await s.take_off(30.0)
        mode_mark, landed_mark = s.mode.mark(), s.landed.mark()
        await s.failure.inject(FailureUnit.SENSOR_GPS, FailureType.OFF, 0)

        async def global_position_lost() -> None:
            health = await s.telemetry.health()
            assert not health.is_global_position_ok

        await s.health_ok.wait_for(False)
        await global_position_lost()
        # Without a global position PX4 descends (DESCEND, which MAVSDK shows as LAND).
        await s.mode.wait_for(FlightMode.LAND)
        await s.wait_landed_disarmed()
        assert is_subsequence(
            [LandedState.IN_AIR, LandedState.LANDING, LandedState.ON_GROUND],
            s.landed.since(landed_mark),
        ), s.landed.since(landed_mark)
        assert FlightMode.LAND in s.mode.since(mode_mark)

        # Clearing the failure brings the GPS and health back.
        await s.failure.inject(FailureUnit.SENSOR_GPS, FailureType.OK, 0)
        await s.health_ok.wait_for(True)


async def test_critical_battery_returns_and_lands() -> None:
    params = {
        "COM_LOW_BAT_ACT": 3,  # Return at critical, Land at emergency
        "SIM_BAT_DRAIN": 120.0,  # PX4's linear drain: 100 % over 120 s (simulated time)
        "SIM_BAT_MIN_PCT": 6.0,  # floor between critical (7 %) and emergency (5 %)
    }
    async with SimRig(speed_factor=20.0, params=params) as rig:
        s = rig.session
        home_lat, home_lon, home_amsl_m = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        start = await s.telemetry.battery()
        assert start.remaining_percent > 50.0
        await s.take_off(2.5)
        mode_mark = s.mode.mark()
        away_lat, away_lon = offset_deg(home_lat, home_lon, 40.0, 40.0)
        ack = await s.reposition(away_lat, away_lon, home_amsl_m + 15.0)
        assert ack.result == 0, ack

        await s.mode.wait_for(FlightMode.RETURN_TO_LAUNCH, timeout_s=90.0)
        sim_pct = rig.vehicle.snapshot().battery_remaining_pct
        assert sim_pct < 7.5, f"RTL at {sim_pct} % (critical is 7 %)"
        # BATTERY_STATUS is slow (0.5 Hz): MAVSDK reports the critical level shortly after.
        low: Watched[Battery] = Watched("battery")
        s.watch(low, s.telemetry.subscribe_battery)
        await low.wait_until(lambda b: b.remaining_percent < 10.0, what="below 10 %")
        await s.wait_landed_disarmed()
        here = s.position.latest
        assert here is not None
        assert distance_m(here.latitude_deg, here.longitude_deg, home_lat, home_lon) < 3.0
        modes = s.mode.since(mode_mark)
        assert is_subsequence([FlightMode.HOLD, FlightMode.RETURN_TO_LAUNCH], modes), modes


async def test_data_link_loss_returns_home() -> None:
    params = {"NAV_DLL_ACT": 2, "COM_DL_LOSS_T": 5}  # Return after 5 s without a GCS
    async with SimRig(speed_factor=20.0, params=params) as rig:
        s = rig.session
        home_lat, home_lon, home_amsl_m = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        await s.take_off(2.5)
        away_lat, away_lon = offset_deg(home_lat, home_lon, -50.0, 30.0)
        ack = await s.reposition(away_lat, away_lon, home_amsl_m + 12.0)
        assert ack.result == 0, ack
        await s.wait_near(away_lat, away_lon, 2.0)
        assert rig.vehicle.snapshot().failsafe is False

        connected: Watched[bool] = Watched("is_connected")
        s.watch(connected, s.system.is_connected_state)
        rig.vehicle.set_link_blocked(True)
        try:
            snap = await wait_snapshot(
                rig.vehicle, lambda v: str(v.nav_state) == "rtl", what="RTL after link loss"
            )
            assert snap.failsafe is True and snap.armed is True
            await connected.wait_for(False)  # MAVSDK saw the heartbeats stop
        finally:
            rig.vehicle.set_link_blocked(False)

        reconnect_mark = s.mode.mark()
        await connected.wait_for(True)
        await s.wait_landed_disarmed()
        # Back in contact, MAVSDK saw the failsafe's Return (RTL takes seconds even at 20x).
        assert FlightMode.RETURN_TO_LAUNCH in s.mode.since(reconnect_mark), s.mode.history
        here = s.position.latest
        assert here is not None
        assert distance_m(here.latitude_deg, here.longitude_deg, home_lat, home_lon) < 3.0
        assert s.landed.latest == LandedState.ON_GROUND
