"""Planning with what the vehicle will fly: the site's figures lowered to PX4's limits."""

from __future__ import annotations

import math

from dfr.planning.planner import Planner
from dfr.planning.vehicle_limits import VehicleLimits, disagreements, flown_performance
from dfr.site import DronePerformance, load_site

SITE = DronePerformance(cruise_speed_mps=15.0, climb_speed_mps=5.0, descent_speed_mps=3.0)
PX4_DEFAULTS = VehicleLimits()


def test_limits_from_params_keep_px4_defaults_for_missing_or_bad_values() -> None:
    limits = VehicleLimits.from_params(
        {"MPC_XY_VEL_MAX": 20.0, "MPC_Z_V_AUTO_UP": math.nan, "MPC_ACC_HOR": -1.0}
    )
    assert limits.xy_vel_max_mps == 20.0
    assert limits.z_up_mps == PX4_DEFAULTS.z_up_mps
    assert limits.acc_hor_mps2 == PX4_DEFAULTS.acc_hor_mps2


def test_flown_performance_is_the_lower_of_site_and_vehicle() -> None:
    flown = flown_performance(SITE, PX4_DEFAULTS)
    assert flown.cruise_speed_mps == 12.0  # MPC_XY_VEL_MAX caps DO_CHANGE_SPEED 15
    assert flown.climb_speed_mps == 3.0  # MPC_Z_V_AUTO_UP
    assert flown.descent_speed_mps == 1.5  # MPC_Z_V_AUTO_DN
    assert flown.battery_wh == SITE.battery_wh
    fast = VehicleLimits(xy_vel_max_mps=20.0, z_up_mps=8.0, z_down_mps=4.0)
    assert flown_performance(SITE, fast) == SITE  # a faster vehicle flies the site's figures
    assert flown_performance(SITE, None) == SITE


def test_disagreements_name_the_parameter_and_the_figure_used() -> None:
    notes = disagreements(SITE, PX4_DEFAULTS)
    assert len(notes) == 3
    assert "MPC_XY_VEL_MAX is 12" in notes[0] and "planning with 12" in notes[0]
    assert disagreements(SITE, VehicleLimits(xy_vel_max_mps=20, z_up_mps=5, z_down_mps=3)) == []


def test_planner_eta_follows_the_vehicle_limits() -> None:
    planner = Planner.from_site(load_site("flightplans/fort-worth"))
    before = planner.plan_route("fw1", 32.6955, -97.3205)
    planner.set_vehicle_limits("fw1", PX4_DEFAULTS)
    after = planner.plan_route("fw1", 32.6955, -97.3205)
    assert after.cruise_speed_mps == 12.0
    assert after.estimate.eta_s > before.estimate.eta_s * 1.2
    other = planner.plan_route("fw2", 32.6955, -97.3205)  # fw2's vehicle said nothing yet
    assert other.cruise_speed_mps == 15.0
