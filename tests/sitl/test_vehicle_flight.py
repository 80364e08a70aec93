"""Flight behaviour seen over MAVLink and through the vehicle's snapshot: takeoff, land,
RTL, auto-disarm, failsafes, failure injection, geofence. Speed factor 20."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from sitl.fleet import VehicleSpec
from sitl.modes import LandedState
from sitl.params import int_to_wire
from sitl.probe import NAN, ProbeRig
from sitl.vehicle import Vehicle, VehicleSnapshot

HOME = (47.397742, 8.545594, 488.0)
ACCEPTED, TEMP_REJECTED, DENIED = 0, 1, 2
HOLD, RTL, LAND = 0x03040000, 0x05040000, 0x06040000


def _rig(**params: float) -> ProbeRig:
    return ProbeRig([VehicleSpec(0, *HOME, params=params)], speed_factor=20.0)


async def _until(
    v: Vehicle,
    pred: Callable[[VehicleSnapshot], bool],
    timeout_s: float = 20.0,
) -> VehicleSnapshot:
    async with asyncio.timeout(timeout_s):
        while not pred(v.snapshot()):  # noqa: ASYNC110 (the simulator's own state; no event)
            await asyncio.sleep(0.02)
    return v.snapshot()


async def _airborne(rig: ProbeRig, alt_rel_m: float = 20.0) -> None:
    p = rig.probe
    assert (await p.command_long(400, 1)).result == ACCEPTED
    assert (
        await p.command_long(22, NAN, NAN, NAN, NAN, NAN, NAN, HOME[2] + alt_rel_m)
    ).result == ACCEPTED
    await _until(rig.vehicle, lambda s: s.nav_state == "hold" and s.alt_rel_m > alt_rel_m - 0.3)


async def _fly_away(rig: ProbeRig, north_deg: float, alt_rel_m: float = 20.0) -> None:
    ack = await rig.probe.command_int(
        192,
        5,
        -1,
        1,
        0,
        NAN,
        int((HOME[0] + north_deg) * 1e7),
        int(HOME[1] * 1e7),
        HOME[2] + alt_rel_m,
    )
    assert ack.result == ACCEPTED


async def test_landed_states_and_land_then_auto_disarm() -> None:
    async with _rig() as rig:
        p = rig.probe
        since = p.mark()
        await _airborne(rig, 5.0)
        assert (await p.command_long(21)).result == ACCEPTED
        await p.wait_for("HEARTBEAT", lambda m: not m.base_mode & 128, since=since, timeout_s=20)
        states = [m.landed_state for m in p.of_type("EXTENDED_SYS_STATE", since)]
        seq = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
        assert seq[:5] == [1, 3, 2, 4, 1]  # ground, takeoff, air, landing, ground
        modes = [m.custom_mode for m in p.of_type("HEARTBEAT", since)]
        assert LAND in modes and modes[-1] == HOLD


async def test_preflight_auto_disarm_without_takeoff() -> None:
    async with _rig() as rig:
        assert (await rig.probe.command_long(400, 1)).result == ACCEPTED
        since = rig.probe.mark()
        text = await rig.probe.wait_for(
            "STATUSTEXT", lambda m: "preflight" in m.text, since=since, timeout_s=3
        )
        assert text.text.startswith("Disarmed")
        assert not rig.vehicle.armed


async def test_rtl_climbs_returns_descends_lands_and_disarms() -> None:
    async with _rig(RTL_RETURN_ALT=30.0, RTL_DESCEND_ALT=10.0, MPC_XY_CRUISE=12.0) as rig:
        v = rig.vehicle
        await _airborne(rig, 10.0)
        await _fly_away(rig, 0.002, 10.0)  # ~220 m north
        await _until(v, lambda s: s.lat_deg > HOME[0] + 0.00195)
        assert (await rig.probe.command_long(20)).result == ACCEPTED
        peak = 0.0
        async with asyncio.timeout(30):
            while v.armed:
                peak = max(peak, v.snapshot().alt_rel_m)
                await asyncio.sleep(0.02)
        assert peak == pytest.approx(30.0, abs=1.0)
        snap = v.snapshot()
        n, e = v.frame.to_ne(snap.lat_deg, snap.lon_deg)
        assert abs(n) < 1.0 and abs(e) < 1.0
        assert snap.landed_state == "on_ground" and snap.nav_state == "hold"


async def test_data_link_loss_triggers_return_after_the_hold_delay() -> None:
    async with _rig(NAV_DLL_ACT=2, COM_DL_LOSS_T=1, COM_FAIL_ACT_T=5.0) as rig:
        v, p = rig.vehicle, rig.probe

        async def gcs_heartbeats() -> None:
            while True:
                p.heartbeat()
                await asyncio.sleep(0.2)

        async with asyncio.TaskGroup() as group:
            beats = group.create_task(gcs_heartbeats(), name="test: gcs heartbeats")
            await _airborne(rig)
            await _fly_away(rig, 0.0005)
            await _until(v, lambda s: s.lat_deg > HOME[0] + 0.00045)
            assert not v.snapshot().failsafe  # heartbeats keep the link up
            v.set_link_blocked(True)
            snap = await _until(v, lambda s: s.failsafe, timeout_s=5)
            assert snap.nav_state == "hold"  # COM_FAIL_ACT_T: hold first
            await _until(v, lambda s: s.nav_state == "rtl", timeout_s=5)
            await _until(v, lambda s: not s.armed, timeout_s=30)
            v.set_link_blocked(False)
            beats.cancel()
        assert v.snapshot().landed_state == "on_ground"


async def test_with_a_data_link_loss_action_no_gcs_means_no_arming() -> None:
    # PX4's rcAndDataLinkCheck: NAV_DLL_ACT > 0 makes a GCS connection an arming requirement
    async with _rig(NAV_DLL_ACT=2) as rig:
        p = rig.probe
        since = p.mark()
        assert (await p.command_long(400, 1)).result == TEMP_REJECTED
        await p.wait_for(
            "STATUSTEXT", lambda m: "No connection to the GCS" in m.text, since=since, timeout_s=5
        )
        p.heartbeat()
        await asyncio.sleep(0.1)
        assert (await p.command_long(400, 1)).result == ACCEPTED


async def test_critical_battery_lands_with_com_low_bat_act_2() -> None:
    async with _rig(
        COM_LOW_BAT_ACT=2, COM_FAIL_ACT_T=0.0, SIM_BAT_DRAIN=20.0, SIM_BAT_MIN_PCT=1.0
    ) as rig:
        v, p = rig.vehicle, rig.probe
        since = p.mark()
        await _airborne(rig, 10.0)
        snap = await _until(v, lambda s: s.nav_state == "land", timeout_s=10)
        assert snap.failsafe and snap.battery_remaining_pct <= 7.5
        hb = await p.wait_for("HEARTBEAT", lambda m: m.custom_mode == LAND, since=since)
        assert hb.system_status == 5  # CRITICAL while in failsafe
        texts = [m.text for m in p.of_type("STATUSTEXT", since)]
        assert any(t.startswith("Low battery level!") for t in texts)
        assert any(t.startswith("Failsafe activated") for t in texts)
        await _until(v, lambda s: not s.armed, timeout_s=30)


async def test_low_battery_blocks_arming() -> None:
    async with _rig(SYS_FAILURE_EN=1) as rig:
        p = rig.probe
        assert (await p.command_long(420, 100, 1)).result == ACCEPTED  # battery off
        status = await p.wait_for("SYS_STATUS")
        assert not status.onboard_control_sensors_health & 0x10000000
        assert (await p.command_long(400, 1)).result == TEMP_REJECTED
        assert (await p.command_long(420, 100, 0)).result == ACCEPTED
        assert (await p.command_long(400, 1)).result == ACCEPTED


async def test_failure_injection_is_gated_by_sys_failure_en() -> None:
    async with _rig() as rig:
        assert (await rig.probe.command_long(420, 4, 1)).result == DENIED
        assert not rig.vehicle.gps_failed


async def test_gps_off_in_flight_descends_and_blocks_arming() -> None:
    async with _rig(SYS_FAILURE_EN=1) as rig:
        v, p = rig.vehicle, rig.probe
        await _airborne(rig, 10.0)
        assert (await p.command_long(420, 4, 1)).result == ACCEPTED
        snap = await _until(v, lambda s: s.nav_state == "descend", timeout_s=5)
        assert snap.failsafe
        await _until(v, lambda s: not s.armed, timeout_s=30)
        assert (await p.command_long(400, 1)).result == TEMP_REJECTED
        assert (await p.command_long(420, 4, 0)).result == ACCEPTED
        assert (await p.command_long(400, 1)).result == ACCEPTED


async def test_motor_failure_terminates_and_falls() -> None:
    async with _rig(SYS_FAILURE_EN=1) as rig:
        v, p = rig.vehicle, rig.probe
        await _airborne(rig, 10.0)
        assert (await p.command_long(420, 101, 1, 1)).result == ACCEPTED
        await _until(v, lambda s: not s.armed, timeout_s=5)
        snap = v.snapshot()
        assert snap.nav_state == "termination" and snap.alt_rel_m == 0.0
        hb = await p.wait_for("HEARTBEAT")
        assert hb.system_status == 8  # FLIGHT_TERMINATION


async def test_geofence_breach_holds_and_blocks_arming_when_disarmed() -> None:
    async with _rig(GF_MAX_HOR_DIST=40.0, GF_ACTION=1) as rig:
        v, p = rig.vehicle, rig.probe
        await _airborne(rig, 10.0)
        since = p.mark()
        # with GF_ACTION 2 PX4 refuses a reposition beyond the fence ("Reposition is outside
        # geofence"): send it under GF_ACTION 1 (warn), then make the breach action Hold
        await _fly_away(rig, 0.001, 10.0)  # 111 m north, fence at 40 m
        p.send(p.mav.param_set_encode(1, 1, b"GF_ACTION", int_to_wire(2), 6))
        await p.wait_for("PARAM_VALUE", lambda m: m.param_id == "GF_ACTION", since=since)
        assert v.motion.north_m < 30.0  # set before the vehicle reaches the fence
        await p.wait_for(
            "STATUSTEXT", lambda m: m.text == "Geofence violation", since=since, timeout_s=10
        )
        await _until(v, lambda s: s.failsafe and s.nav_state == "hold", timeout_s=5)
        await asyncio.sleep(0.5)
        snap = await _until(v, lambda s: s.ground_speed_mps < 0.1, timeout_s=10)
        n, _ = v.frame.to_ne(snap.lat_deg, snap.lon_deg)
        assert 30 < n < 40  # braked, then held back inside the fence
        assert (await p.command_long(21)).result == ACCEPTED
        await _until(v, lambda s: not s.armed, timeout_s=30)
        assert (await p.command_long(400, 1)).result == ACCEPTED  # landed inside
        assert (await p.command_long(400, 0)).result == ACCEPTED
        assert (await p.command_long(179, 0, NAN, NAN, NAN, *HOME)).result == ACCEPTED
        p.send(p.mav.param_set_encode(1, 1, b"GF_MAX_HOR_DIST", 10.0, 9))  # now outside
        await p.wait_for("STATUSTEXT", lambda m: m.text == "Geofence violation")
        assert (await p.command_long(400, 1)).result == TEMP_REJECTED
        status = await p.wait_for("SYS_STATUS")
        assert not status.onboard_control_sensors_health & 0x10000000  # not armable


async def test_mavlink_signal_lost_injection_fires_the_data_link_failsafe() -> None:
    async with _rig(SYS_FAILURE_EN=1, NAV_DLL_ACT=3, COM_DL_LOSS_T=1, COM_FAIL_ACT_T=0.0) as rig:
        v, p = rig.vehicle, rig.probe

        async def gcs_heartbeats() -> None:
            while True:
                p.heartbeat()
                await asyncio.sleep(0.2)

        async with asyncio.TaskGroup() as group:
            beats = group.create_task(gcs_heartbeats(), name="test: gcs heartbeats")
            await _airborne(rig, 10.0)
            assert (await p.command_long(420, 105, 1)).result == ACCEPTED
            since = p.mark()
            text = await p.wait_for(
                "STATUSTEXT", lambda m: "ground station lost" in m.text, since=since, timeout_s=5
            )
            assert text.severity <= 2
            await p.wait_for("HEARTBEAT", lambda m: m.custom_mode == LAND, since=since)
            # it still talks (telemetry flows) but no longer listens: commands go unanswered
            with pytest.raises(TimeoutError):
                await p.command_long(512, 148, timeout_s=0.5)
            await _until(v, lambda s: not s.armed, timeout_s=30)
            assert v.api_link.rx_dropped
            v.set_link_blocked(False)  # the test rig's way back
            assert (await p.command_long(512, 148)).result == ACCEPTED
            beats.cancel()


async def test_a_3_km_sortie_at_50x_runs_the_battery_low() -> None:
    # the DFR airframe (15 m/s cruise, 300/330/450 W) with a small 45 Wh pack
    spec = VehicleSpec(
        0,
        *HOME,
        airframe="dfr_quad",
        params={"MPC_XY_VEL_MAX": 18.0, "SIM_BAT_CAP_WH": 45.0, "RTL_RETURN_ALT": 60.0},
    )
    async with ProbeRig([spec], speed_factor=50.0) as rig:
        v, p = rig.vehicle, rig.probe
        since = p.mark()
        await _airborne(rig, 60.0)
        await _fly_away(rig, 0.027, 60.0)  # ~3 km north
        out = await _until(
            v, lambda s: s.lat_deg > HOME[0] + 0.0269 and s.ground_speed_mps < 1, timeout_s=30
        )
        used_out = 100.0 - out.battery_remaining_pct
        # ~200 s at ~340 W plus the climb: 45 Wh pack -> roughly 45-55 % used
        assert 35 < used_out < 65
        assert (await p.command_long(20)).result == ACCEPTED
        landed = await _until(v, lambda s: s.landed_state is LandedState.ON_GROUND, timeout_s=30)
        assert landed.battery_remaining_pct < 15
        texts = [m.text for m in p.of_type("STATUSTEXT", since)]
        assert any(t.startswith("Low battery level!") for t in texts)
        # disarmed, the pack is full again, as PX4's battery simulator makes it
        await _until(v, lambda s: not s.armed and s.battery_remaining_pct == 100.0, timeout_s=30)


async def test_rtl_goes_to_the_closest_rally_point_under_the_cone() -> None:
    async with _rig(
        RTL_RETURN_ALT=60.0, RTL_DESCEND_ALT=10.0, RTL_CONE_ANG=45.0, MPC_XY_CRUISE=12.0
    ) as rig:
        v, p = rig.vehicle, rig.probe
        rally_lat = HOME[0] + 0.0030  # ~333 m north
        since = p.mark()
        p.send(p.mav.mission_count_encode(1, 1, 1, 2))
        await p.wait_for("MISSION_REQUEST_INT", since=since)
        p.send(
            p.mav.mission_item_int_encode(
                1,
                1,
                0,
                6,
                5100,
                1,
                1,
                0,
                0,
                0,
                NAN,
                int(rally_lat * 1e7),
                int(HOME[1] * 1e7),
                0.0,
                2,
            )
        )
        assert (await p.wait_for("MISSION_ACK", since=since)).type == ACCEPTED
        await _airborne(rig, 10.0)
        await _fly_away(rig, 0.0027, 10.0)  # ~300 m north
        await _until(v, lambda s: s.lat_deg > HOME[0] + 0.00265 and s.ground_speed_mps < 0.5)
        assert (await p.command_long(20)).result == ACCEPTED
        peak = 0.0
        async with asyncio.timeout(30):
            while v.armed:
                peak = max(peak, v.snapshot().alt_rel_m)
                await asyncio.sleep(0.02)
        snap = v.snapshot()
        n, _ = v.frame.to_ne(snap.lat_deg, snap.lon_deg)
        rally_n, _ = v.frame.to_ne(rally_lat, HOME[1])
        assert abs(n - rally_n) < 1.0  # landed at the rally point
        # ~33 m from the rally point: the 45 degree cone caps the return height near 33 m
        assert 25.0 < peak < 40.0
