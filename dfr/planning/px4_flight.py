"""How long PX4 takes to fly a mission: its takeoff, its legs, its corners, its landing.

Closed forms of PX4 main's multicopter auto trajectory (``FlightTaskAuto``,
``TrajectoryConstraints``, ``TrajMath``), with the vehicle's own parameters
(:class:`~dfr.planning.vehicle_limits.VehicleLimits`):

* **Takeoff** (a mission's first item, on the pad): ``COM_SPOOLUP_TIME`` of idle, the
  thrust ramp ``MPC_TKO_RAMP_T``, a climb at ``MPC_TKO_SPEED`` (accelerating at
  ``MPC_TKO_SPEED / MPC_TKO_RAMP_T``) while below ``MPC_LAND_ALT1``, then
  ``MPC_Z_V_AUTO_UP``; PX4 brakes along :func:`braking_speed_mps` and takes the item as
  reached within ``NAV_MC_ALT_RAD`` of the altitude. Horizontal flight starts after.
* **Legs** at the cruise speed (DO_CHANGE_SPEED, capped by ``MPC_XY_VEL_MAX``), starting
  from a hover with a jerk-limited acceleration (``MPC_ACC_HOR``, ``MPC_JERK_AUTO``);
  at each corner PX4 slows to ``sqrt(MPC_XY_TRAJ_P · MPC_ACC_HOR · R · tan(α/2))``
  (α the angle at the waypoint, R its acceptance radius) along the same braking curve;
  the last waypoint counts as reached ``R`` before it.
* **Landing**: ``MPC_Z_V_AUTO_DN`` above ``MPC_LAND_ALT1``, ``MPC_LAND_SPEED`` below
  ``MPC_LAND_ALT2``, linear between.

Checked against real PX4 main SIH (Fort Worth, 60 m, a 1.8 km route with one 40° corner):
arm → last waypoint 219.3 s flown, 220.7 s here; with ``MPC_Z_V_AUTO_UP`` 5, 215.2 s
flown and here. Pure arithmetic: no asyncio, no MAVSDK.
"""

from __future__ import annotations

import math

from dfr.planning.vehicle_limits import VehicleLimits

# the vehicle lags PX4's setpoint when it starts from a hover (controller and drag):
# seconds lost beyond the jerk-limited ramp, calibrated on PX4 SIH
START_LAG_S = 1.0
ALT_ACCEPTANCE_M = 0.8  # NAV_MC_ALT_RAD


def braking_speed_mps(
    distance_m: float, final_mps: float, acc_mps2: float, jerk_mps3: float
) -> float:
    """PX4's ``computeMaxSpeedFromDistance``: the fastest speed from which the vehicle can
    still reach ``final_mps`` within ``distance_m``."""
    b = 4.0 * acc_mps2 * acc_mps2 / jerk_mps3
    v = 0.5 * (-b + math.sqrt(b * b + 8.0 * acc_mps2 * max(0.0, distance_m) + 4.0 * final_mps**2))
    return max(final_mps, v)


def _braking(
    speed_mps: float, final_mps: float, acc_mps2: float, jerk_mps3: float, stop_at_m: float
) -> tuple[float, float]:
    """(distance, time) from where braking starts to ``stop_at_m`` before the point, where
    the braking curve reaches ``final_mps``."""
    b = 4.0 * acc_mps2 * acc_mps2 / jerk_mps3
    if speed_mps <= final_mps + 1e-9:
        return 0.0, 0.0

    def dist_at(v: float) -> float:  # inverse of braking_speed_mps
        return (v * v + b * v - final_mps * final_mps) / (2.0 * acc_mps2)

    v_end = max(final_mps, braking_speed_mps(stop_at_m, final_mps, acc_mps2, jerk_mps3))
    if v_end >= speed_mps:
        return 0.0, 0.0
    start_m = dist_at(speed_mps)
    curve_end_m = max(stop_at_m, dist_at(v_end)) if v_end > final_mps else dist_at(final_mps)
    # time along the curve: dt = dd / v, with dd = (2v + b) / (2a) dv
    curve_s = (speed_mps - v_end) / acc_mps2 + b / (2 * acc_mps2) * math.log(speed_mps / v_end)
    # below the curve (if the curve ends before stop_at_m) the vehicle holds final_mps
    flat_m = max(0.0, curve_end_m - stop_at_m)
    flat_s = flat_m / final_mps if final_mps > 0 else 0.0
    return start_m - stop_at_m, curve_s + flat_s


def braking_penalty_s(
    speed_mps: float, final_mps: float, limits: VehicleLimits, stop_at_m: float = 0.0
) -> float:
    """Seconds lost, against flying on at ``speed_mps``, by braking to ``final_mps``."""
    dist_m, time_s = _braking(
        speed_mps, final_mps, limits.acc_hor_mps2, limits.jerk_mps3, stop_at_m
    )
    return max(0.0, time_s - dist_m / speed_mps) if speed_mps > 0 else 0.0


def acceleration_penalty_s(
    from_mps: float, to_mps: float, acc_mps2: float, jerk_mps3: float
) -> float:
    """Seconds lost, against flying at ``to_mps`` all along, by a jerk-limited
    acceleration from ``from_mps``."""
    if to_mps <= from_mps:
        return 0.0
    dv = to_mps - from_mps
    t = dv / acc_mps2 + acc_mps2 / jerk_mps3
    return t * dv / (2.0 * to_mps)


def corner_speed_mps(turn_rad: float, speed_mps: float, limits: VehicleLimits) -> float:
    """PX4's speed through a waypoint where the track turns by ``turn_rad`` (0 = straight)."""
    alpha = math.pi - min(math.pi, max(0.0, turn_rad))  # angle at the waypoint
    if alpha <= 1e-6:
        return 0.0  # a full reversal: stop
    if alpha >= math.pi - 1e-6:
        return speed_mps  # straight on
    v = math.sqrt(
        limits.xy_traj_p * limits.acc_hor_mps2 * limits.acceptance_radius_m * math.tan(alpha / 2)
    )
    return min(speed_mps, v)


def corner_penalty_s(
    turn_rad: float, speed_in_mps: float, speed_out_mps: float, limits: VehicleLimits
) -> float:
    v_corner = corner_speed_mps(turn_rad, min(speed_in_mps, speed_out_mps), limits)
    return braking_penalty_s(speed_in_mps, v_corner, limits) + acceleration_penalty_s(
        v_corner, speed_out_mps, limits.acc_hor_mps2, limits.jerk_mps3
    )


def start_penalty_s(speed_mps: float, limits: VehicleLimits) -> float:
    """Seconds lost by starting the first leg from a hover."""
    return acceleration_penalty_s(0.0, speed_mps, limits.acc_hor_mps2, limits.jerk_mps3) + (
        START_LAG_S if speed_mps > 0 else 0.0
    )


def arrival_penalty_s(speed_mps: float, limits: VehicleLimits) -> float:
    """Braking toward the last waypoint, minus the acceptance radius PX4 counts as there."""
    r = limits.acceptance_radius_m
    return braking_penalty_s(speed_mps, 0.0, limits, stop_at_m=r) - r / speed_mps


def _vertical_s(
    height_m: float, from_mps: float, speed_mps: float, acc_mps2: float, jerk_mps3: float
) -> float:
    """Climb ``height_m`` at ``speed_mps`` (entered at ``from_mps``), braking to the target."""
    if height_m <= ALT_ACCEPTANCE_M:
        return 0.0
    dist_m, brake_s = _braking(speed_mps, 0.0, acc_mps2, jerk_mps3, ALT_ACCEPTANCE_M)
    dist_m = min(dist_m, height_m - ALT_ACCEPTANCE_M)
    cruise_m = height_m - ALT_ACCEPTANCE_M - dist_m
    return (
        cruise_m / speed_mps
        + brake_s
        + acceleration_penalty_s(from_mps, speed_mps, acc_mps2, jerk_mps3)
    )


def takeoff_s(height_m: float, limits: VehicleLimits) -> float:
    """Arming → the takeoff item reached at ``height_m`` above the pad."""
    t = limits.spoolup_s + limits.tko_ramp_s
    tko = min(limits.takeoff_mps, limits.z_up_mps)
    a_tko = min(limits.acc_up_mps2, tko / limits.tko_ramp_s)
    slow_m = min(height_m, limits.land_alt1_m)
    ramp_m = tko * tko / (2 * a_tko)
    if slow_m <= ramp_m:
        t += math.sqrt(2 * slow_m / a_tko)
    else:
        t += tko / a_tko + (slow_m - ramp_m) / tko
    if height_m > limits.land_alt1_m:
        t += _vertical_s(
            height_m - limits.land_alt1_m,
            tko,
            limits.z_up_mps,
            limits.acc_up_mps2,
            limits.jerk_mps3,
        )
    return t


def climb_s(height_m: float, limits: VehicleLimits) -> float:
    """An automatic climb of ``height_m`` in the air (from a hover)."""
    return _vertical_s(height_m, 0.0, limits.z_up_mps, limits.acc_up_mps2, limits.jerk_mps3)


def landing_s(height_m: float, limits: VehicleLimits) -> float:
    """Descending ``height_m`` onto the pad: fast above MPC_LAND_ALT1, slow below ALT2."""
    fast, slow = limits.z_down_mps, min(limits.land_mps, limits.z_down_mps)
    alt1, alt2 = limits.land_alt1_m, min(limits.land_alt2_m, limits.land_alt1_m)
    t = max(0.0, height_m - alt1) / fast
    band_m = max(0.0, min(height_m, alt1) - alt2)
    if band_m > 0:  # speed linear in height from slow at alt2 to fast at alt1
        if abs(fast - slow) < 1e-9 or alt1 <= alt2:
            t += band_m / fast
        else:
            k = (fast - slow) / (alt1 - alt2)
            top = slow + k * (min(height_m, alt1) - alt2)
            t += math.log(top / slow) / k
    return t + min(height_m, alt2) / slow + 1.0  # + the land detector's ~1 s
