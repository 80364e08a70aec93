"""The wind triangle and the flight profile (time, energy, feasibility)."""

from __future__ import annotations

import math

import pytest

from dfr.planning.profile import PowerModel, estimate_flight, fly_legs, still_air_endurance_s
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


def test_turns_cost_time() -> None:
    straight = [(0.0, 0.0), (1000.0, 0.0), (2000.0, 0.0)]
    bent = [(0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0)]
    _, t_straight, _ = fly_legs(straight, PERF)
    _, t_bent, _ = fly_legs(bent, PERF)
    accel = PERF.cruise_speed_mps / 2.5
    assert t_straight == pytest.approx(2000 / V + accel)
    assert t_bent == pytest.approx(2000 / V + accel + accel / 2)


def test_estimate_out_scene_back_and_reserve() -> None:
    pts = [(0.0, 0.0), (3000.0, 0.0)]
    est = estimate_flight(pts, PERF, cruise_alt_rel_m=60, on_scene_s=600, wind=Wind(90.0, 5.0))
    assert est.feasible
    assert est.climb_s == pytest.approx(12.0)
    # out against the wind, back with it
    assert est.legs[0].ground_speed_mps == pytest.approx(10.0)
    assert est.return_legs[0].ground_speed_mps == pytest.approx(20.0)
    assert est.eta_s == pytest.approx(12.0 + 300.0 + 6.0)
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
