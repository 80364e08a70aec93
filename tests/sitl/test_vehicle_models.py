"""Plain unit tests of the simulator's models: modes, params, motion, battery, geofence."""

from __future__ import annotations

import math

import pytest

from sitl.airframe import load_airframe
from sitl.battery import Battery, Thresholds, WarningLevel, cell_voltage
from sitl.frame import LocalFrame
from sitl.geofence import (
    CMD_FENCE_CIRCLE_EXCLUSION,
    CMD_FENCE_CIRCLE_INCLUSION,
    CMD_FENCE_POLYGON_INCLUSION,
    FenceError,
    FenceVertex,
    Geofence,
)
from sitl.modes import NavState, base_mode, custom_mode, requested_state
from sitl.motion import Dynamics, Guidance, Motion, Velocity, Wind, WindField
from sitl.params import ParamStore, ParamType, int_to_wire, wire_to_int
from sitl.trajectory import (
    XYLimits,
    max_speed_from_distance,
    max_speed_in_waypoint,
    xy_speed_limit,
)


@pytest.mark.parametrize(
    ("state", "custom", "base_disarmed"),
    [
        (NavState.HOLD, 50593792, 29),
        (NavState.MISSION, 67371008, 29),
        (NavState.RTL, 84148224, 29),
        (NavState.LAND, 100925440, 29),
        (NavState.TAKEOFF, 33816576, 29),
        (NavState.ORBIT, 16973824, 17),
        (NavState.POSCTL, 196608, 81),
        (NavState.OFFBOARD, 393216, 17),
    ],
)
def test_px4_mode_encoding(state: NavState, custom: int, base_disarmed: int) -> None:
    assert custom_mode(state) == custom
    assert base_mode(state, False) == base_disarmed
    assert base_mode(state, True) == base_disarmed | 128


def test_requested_modes_decode_main_and_sub() -> None:
    assert requested_state(4, 3) is NavState.HOLD
    assert requested_state(4, 4) is NavState.MISSION
    assert requested_state(3, 1) is NavState.ORBIT
    assert requested_state(6, 7) is NavState.OFFBOARD  # sub ignored outside AUTO
    assert requested_state(4, 7) is None
    assert requested_state(42, 0) is None


@pytest.mark.parametrize("value", [0, 1, -1, 10, 894281, -(2**31), 2**31 - 1])
def test_int32_bytewise_roundtrip(value: int) -> None:
    assert wire_to_int(int_to_wire(value)) == value


def test_param_store_types_overrides_and_hash() -> None:
    store = ParamStore({"NAV_DLL_ACT": 2, "MIS_TAKEOFF_ALT": 20})
    assert store.get("NAV_DLL_ACT") == 2 and store.param_type("NAV_DLL_ACT") is ParamType.INT32
    assert isinstance(store.get("MIS_TAKEOFF_ALT"), float)
    before = store.hash_check()
    store.set("RTL_RETURN_ALT", 80)
    assert store.hash_check() != before
    with pytest.raises(KeyError):
        store.set("NOT_A_PARAM", 1)
    with pytest.raises(KeyError):
        ParamStore({"TYPO_PARAM": 1})


def test_px4_trajectory_speeds_match_px4s_formulas() -> None:
    # TrajMath examples with PX4's SIH-era defaults (a 3, j 4, MPC_XY_TRAJ_P 0.5, R 2)
    assert max_speed_from_distance(4.0, 3.0, 10.0, 0.0) == pytest.approx(4.46, abs=0.01)
    assert max_speed_from_distance(4.0, 3.0, 0.0, 2.0) == pytest.approx(2.0)  # never below
    assert max_speed_in_waypoint(math.pi / 2, 0.5 * 3.0, 2.0) == pytest.approx(1.73, abs=0.01)
    lim = XYLimits(cruise_mps=12.0, accel_mps2=3.0, jerk_mps3=4.0, radius_m=10.0, traj_p=0.5)
    # far from a straight-on waypoint: cruise; a 40 degree corner at R 10: ~6.4 m/s there
    assert xy_speed_limit((0.0, 0.0), (900.0, 0.0), (1800.0, 0.0), lim) == pytest.approx(12.0)
    corner = math.radians(40.0)
    w2 = (900.0 + 900.0 * math.cos(corner), 900.0 * math.sin(corner))
    at_corner = xy_speed_limit((899.9, 0.0), (900.0, 0.0), w2, lim)
    assert at_corner == pytest.approx(
        math.sqrt(0.5 * 3.0 * 10.0 * math.tan(math.radians(70))), abs=0.05
    )
    assert xy_speed_limit((899.9, 0.0), (900.0, 0.0), (900.0, 0.0), lim) < 0.5  # stop there


def _flying(**dynamics: float) -> Motion:
    m = Motion()
    m.dynamics = Dynamics(**dynamics)
    m.guidance = Guidance(armed=True, landed=False)
    m.up_m = m.traj_pos[2] = 20.0
    return m


def test_sih_drag_and_tilt_cap_the_speed_below_mpc_xy_vel_max() -> None:
    m = _flying()
    for _ in range(1200):  # 60 s asking for 12 m/s north
        m.step(0.05, Velocity(12.0, 0.0, 0.0), (0.0, 0.0), 0.0)
    # SIH_KDV 1 N/(m/s) on 1 kg at 45 degrees of tilt: g * tan(45) / 1 = 9.8 m/s
    assert m.vn_mps == pytest.approx(9.81, abs=0.15)
    assert m.up_m == pytest.approx(20.0, abs=0.5)
    clean = _flying(drag_per_s=0.45)
    for _ in range(1200):
        clean.step(0.05, Velocity(12.0, 0.0, 0.0), (0.0, 0.0), 0.0)
    assert clean.vn_mps == pytest.approx(12.0, abs=0.2)  # now MPC_XY_VEL_MAX rules


def test_headwind_lowers_the_ground_speed_tailwind_cannot_pass_mpc_xy_vel_max() -> None:
    # wind from the north at 4 m/s = air moving south: drag acts on the airspeed
    head = _flying()
    tail = _flying()
    for _ in range(1200):
        head.step(0.05, Velocity(12.0, 0.0, 0.0), (-4.0, 0.0), 0.0)
        tail.step(0.05, Velocity(-12.0, 0.0, 0.0), (-4.0, 0.0), 180.0)
    assert head.vn_mps == pytest.approx(9.81 - 4.0, abs=0.2)
    assert tail.vn_mps == pytest.approx(-12.0, abs=0.2)


def test_motion_takes_off_after_spool_up_and_ramp_and_stays_above_ground() -> None:
    m = Motion()
    m.guidance = Guidance(armed=True, landed=True)
    t = 0.0
    while m.up_m == 0.0 and t < 10.0:
        m.step(0.05, Velocity(0.0, 0.0, 1.5), (0.0, 0.0), None)
        t += 0.05
    # COM_SPOOLUP_TIME 1 s, then the ramp: the trajectory restarts at -0.7 m/s and gains
    # 0.5 m/s² (MPC_TKO_SPEED / MPC_TKO_RAMP_T), so it lifts about 1.4 s into the ramp
    assert 2.2 < t < 3.2
    m.guidance = Guidance(armed=True, landed=False)
    for _ in range(400):
        m.step(0.05, Velocity(0.0, 0.0, -1.5), (0.0, 0.0), None)
    assert m.up_m == 0.0 and m.vu_mps == 0.0


def test_wind_field_direction_and_seeded_gusts() -> None:
    still = WindField(Wind(from_deg=90, speed_mps=5), seed=1)
    n, e = still.velocity_ne(0.0)
    assert n == pytest.approx(0, abs=1e-9) and e == pytest.approx(-5)
    gusty_a = WindField(Wind(speed_mps=5, gust_mps=3), seed=7)
    gusty_b = WindField(Wind(speed_mps=5, gust_mps=3), seed=7)
    speeds = [math.hypot(*gusty_a.velocity_ne(t)) for t in range(0, 60, 3)]
    assert speeds == [math.hypot(*gusty_b.velocity_ne(t)) for t in range(0, 60, 3)]
    assert max(speeds) - min(speeds) > 1.0


def test_battery_power_model_orders_hover_cruise_climb() -> None:
    b = Battery(ParamStore(load_airframe("dfr_quad")))  # 300/330/450 W, cruise at 15 m/s
    hover = b.power_for(armed=True, in_air=True, airspeed_mps=0, climb_mps=0)
    cruise = b.power_for(armed=True, in_air=True, airspeed_mps=15, climb_mps=0)
    climb = b.power_for(armed=True, in_air=True, airspeed_mps=0, climb_mps=5)
    idle = b.power_for(armed=True, in_air=False, airspeed_mps=0, climb_mps=0)
    assert idle < hover < cruise < climb
    assert cruise == pytest.approx(8 + 330)


def test_a_long_flight_runs_the_battery_low() -> None:
    b = Battery(ParamStore({**load_airframe("dfr_quad"), "SIM_BAT_CAP_WH": 100.0}))
    thresholds = Thresholds()
    levels = []
    for _ in range(1200):  # 20 minutes of cruise at 330 W on 100 Wh
        b.step(
            1.0,
            armed=True,
            in_air=True,
            airspeed_mps=15,
            climb_mps=0,
            sim_drain_s=0,
            sim_min_pct=50,
        )
        levels.append(b.warning(thresholds))
    assert b.remaining_pct < 5
    assert (
        levels.index(WarningLevel.LOW)
        < levels.index(WarningLevel.CRITICAL)
        < levels.index(WarningLevel.EMERGENCY)
    )
    assert b.voltage_v < 4 * 3.6


def test_sim_bat_drain_caps_state_of_charge() -> None:
    b = Battery(ParamStore())
    for _ in range(100):
        b.step(
            1.0,
            armed=True,
            in_air=False,
            airspeed_mps=0,
            climb_mps=0,
            sim_drain_s=10,
            sim_min_pct=8,
        )
    assert b.remaining_pct == pytest.approx(8)
    assert cell_voltage(1.0) == pytest.approx(4.2) and cell_voltage(0.0) == pytest.approx(3.3)


def test_geofence_inclusion_exclusion_and_zero_radius_circles() -> None:
    frame = LocalFrame(47.0, 8.0)
    d = 0.001
    square = [
        FenceVertex(CMD_FENCE_POLYGON_INCLUSION, 4, 47 + a, 8 + b)
        for a, b in ((-d, -d), (d, -d), (d, d), (-d, d))
    ]
    hole = FenceVertex(CMD_FENCE_CIRCLE_EXCLUSION, 0, 47.0005, 8.0, radius_m=20)
    dummy = FenceVertex(CMD_FENCE_CIRCLE_INCLUSION, 0, 0.0, 0.0, radius_m=0.0)
    fence = Geofence.from_items([*square, hole, dummy], frame)
    assert len(fence.polygons) == 1 and len(fence.circles) == 1
    assert not fence.breached(0, 0)
    assert fence.breached(200, 0)  # outside the square (~111 m half-side)
    n, e = frame.to_ne(47.0005, 8.0)
    assert fence.breached(n, e)  # inside the exclusion circle
    assert not Geofence().breached(1e6, 1e6)
    with pytest.raises(FenceError):
        Geofence.from_items(square[:2], frame)


def test_local_frame_roundtrip() -> None:
    frame = LocalFrame(32.75, -97.33)
    lat, lon = frame.to_lat_lon(1234.5, -987.6)
    n, e = frame.to_ne(lat, lon)
    assert (n, e) == (pytest.approx(1234.5), pytest.approx(-987.6))
