"""The wind triangle and the flight profile (time, energy, feasibility)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from dfr.planning.profile import PowerModel, estimate_flight, fly_legs, still_air_endurance_s
from dfr.planning.px4_flight import (
    arrival_penalty_s,
    corner_penalty_s,
    corner_speed_mps,
    start_penalty_s,
    takeoff_s,
)
from dfr.planning.vehicle_limits import VehicleLimits
from dfr.planning.wind import CALM, Wind, ground_speed_mps, leg_time_s
from dfr.site import DronePerformance

V = 15.0
L = 3000.0


def test_no_wind_time_is_length_over_airspeed() -> None:
    assert leg_time_s(L, V, 1.0, 0.0, CALM) == pytest.approx(L / V)


def test_headwind_time() -> None:
    # track due east, wind FROM the east (90°) = headwind
    assert leg_time_s(L, V, 1.0, 0.0, Wind(90.0, 5.0)) == pytest.approx(L / (V - 5.0))


def test_tailwind_time() -> None:
    assert leg_time_s(L, V, 1.0, 0.0, Wind(270.0, 5.0)) == pytest.approx(L / (V + 5.0))


@pytest.mark.parametrize("from_deg", [0.0, 180.0])
def test_crosswind_time(from_deg: float) -> None:
    assert leg_time_s(L, V, 1.0, 0.0, Wind(from_deg, 9.0)) == pytest.approx(
        L / math.sqrt(V**2 - 9.0**2)
    )


@pytest.mark.parametrize("wind_mps", [15.0, 20.0])
def test_crosswind_at_or_above_airspeed_is_infeasible(wind_mps: float) -> None:
    assert ground_speed_mps(V, 1.0, 0.0, Wind(0.0, wind_mps)) <= 0
    assert leg_time_s(L, V, 1.0, 0.0, Wind(0.0, wind_mps)) == math.inf


def test_headwind_stronger_than_airspeed_is_infeasible() -> None:
    assert leg_time_s(L, V, 0.0, 1.0, Wind(0.0, 16.0)) == math.inf


def test_wind_direction_is_where_it_blows_from() -> None:
    east, north = Wind(0.0, 10.0).vector_mps  # from the north: air moves south
    assert east == pytest.approx(0.0, abs=1e-12) and north == pytest.approx(-10.0)


PERF = DronePerformance()


def test_power_model_is_calibrated_at_cruise_and_hover() -> None:
    power = PowerModel.from_performance(PERF)
    assert power.level_w(0.0) == pytest.approx(PERF.hover_power_w)
    assert power.level_w(PERF.cruise_speed_mps) == pytest.approx(PERF.cruise_power_w)
    # translational lift: cheaper than hover at a moderate speed
    assert power.level_w(6.0) < PERF.hover_power_w


def test_still_air_endurance_of_the_default_airframe_is_dfr_like() -> None:
    full_battery_min = PERF.battery_wh / PERF.cruise_power_w * 60
    assert 40 <= full_battery_min <= 50
    assert still_air_endurance_s(PERF) == pytest.approx(full_battery_min * 60 * 0.8)


def test_turns_cost_time_as_px4_flies_them() -> None:
    straight = [(0.0, 0.0), (1000.0, 0.0), (2000.0, 0.0)]
    bent = [(0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0)]
    _, t_straight, _ = fly_legs(straight, PERF)
    _, t_bent, _ = fly_legs(bent, PERF)
    limits = VehicleLimits()
    ends = start_penalty_s(V, limits) + arrival_penalty_s(V, limits)
    assert t_straight == pytest.approx(2000 / V + ends)
    # a right angle at a 10 m acceptance radius: PX4 slows to sqrt(0.5 · 3 · 10 · tan 45°)
    assert corner_speed_mps(math.pi / 2, V, limits) == pytest.approx(math.sqrt(15.0))
    assert t_bent == pytest.approx(2000 / V + ends + corner_penalty_s(math.pi / 2, V, V, limits))
    assert t_bent > t_straight + 2.0
    # straight on costs nothing; a sharper turn costs more
    assert corner_penalty_s(0.0, V, V, limits) == pytest.approx(0.0, abs=1e-9)
    assert corner_penalty_s(2.5, V, V, limits) > corner_penalty_s(1.0, V, V, limits)


def test_px4_takeoff_and_legs_match_real_px4_sih() -> None:
    """Real PX4 main SIH, Fort Worth, 60 m: arm → takeoff item 31.2 s, 1.8 km with a 40°
    corner in 188.1 s (PX4 time, /tmp measurement in the issue-8 note); 9.7 m/s plateau."""
    sih = VehicleLimits(airframe_top_speed_mps=9.81)
    assert takeoff_s(60.0, sih) == pytest.approx(31.2, abs=1.0)
    assert takeoff_s(60.0, replace(sih, z_up_mps=5.0)) == pytest.approx(25.8, abs=1.0)
    v = 9.72
    perf = DronePerformance(cruise_speed_mps=v, max_speed_mps=v, climb_speed_mps=3.0)
    b = math.radians(40.0)
    corner = (900 * math.sin(b), 900 * math.cos(b))
    _, t, _ = fly_legs([(0.0, 0.0), corner, (corner[0], corner[1] + 900)], perf, limits=sih)
    assert t == pytest.approx(188.1, rel=0.02)


def test_estimate_out_scene_back_and_reserve() -> None:
    pts = [(0.0, 0.0), (3000.0, 0.0)]
    est = estimate_flight(pts, PERF, cruise_alt_rel_m=60, on_scene_s=600, wind=Wind(90.0, 5.0))
    assert est.feasible
    # PX4's takeoff: 1 s spool-up, 3 s ramp, 1.5 m/s to 10 m, then the airframe's 5 m/s
    climb = takeoff_s(60.0, replace(VehicleLimits(), z_up_mps=PERF.climb_speed_mps))
    assert est.climb_s == pytest.approx(climb)
    assert 60 / PERF.climb_speed_mps < climb < 60 / PERF.climb_speed_mps + 16
    # out against the wind, back with it
    assert est.legs[0].ground_speed_mps == pytest.approx(10.0)
    assert est.return_legs[0].ground_speed_mps == pytest.approx(20.0)
    limits = VehicleLimits()
    legs_s = 300.0 + start_penalty_s(10.0, limits) + arrival_penalty_s(10.0, limits)
    assert est.eta_s == pytest.approx(climb + legs_s)
    assert est.total_energy_wh == pytest.approx(
        est.out_energy_wh + est.on_scene_energy_wh + est.return_energy_wh
    )
    assert est.usable_energy_wh == pytest.approx(PERF.battery_wh * 0.8)


def test_too_far_is_infeasible_with_the_energy_reason() -> None:
    est = estimate_flight([(0.0, 0.0), (20_000.0, 0.0)], PERF, cruise_alt_rel_m=60, on_scene_s=600)
    assert not est.feasible
    assert "Wh" in est.reasons[0] and "reserve" in est.reasons[0]


def test_low_charge_makes_a_flight_infeasible() -> None:
    pts = [(0.0, 0.0), (3000.0, 0.0)]
    assert estimate_flight(pts, PERF, cruise_alt_rel_m=60, on_scene_s=300).feasible
    assert not estimate_flight(
        pts, PERF, cruise_alt_rel_m=60, on_scene_s=300, charge_frac=0.3
    ).feasible


def test_wind_above_airframe_limit_is_a_reason() -> None:
    est = estimate_flight(
        [(0.0, 0.0), (100.0, 0.0)], PERF, cruise_alt_rel_m=60, on_scene_s=0, wind=Wind(0, 13)
    )
    assert any("airframe limit" in r for r in est.reasons)
