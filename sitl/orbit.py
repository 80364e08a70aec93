"""Orbit mode (DO_ORBIT): the circle, and the setpoint that flies to it and around it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sitl.motion import Motion, Velocity
from sitl.pilot import Pilot, Setpoint


@dataclass(frozen=True, slots=True)
class Orbit:
    center_ne: tuple[float, float]
    radius_m: float
    direction: int  # +1 clockwise (positive radius), -1 counter-clockwise
    speed_mps: float
    up_m: float
    yaw_behaviour: int


def orbit_setpoint(o: Orbit, m: Motion, pilot: Pilot, start_heading_deg: float | None) -> Setpoint:
    """Fly to the circle, then around it; ``start_heading_deg``: the heading when the
    orbit began (yaw behaviours 1 and 4 keep it)."""
    rn, re = m.north_m - o.center_ne[0], m.east_m - o.center_ne[1]
    dist = math.hypot(rn, re)
    if dist < 0.1:
        rn, re, dist = o.radius_m, 0.0, o.radius_m
        target_n, target_e = o.center_ne[0] + rn, o.center_ne[1]
        return pilot.fly_to(target_n, target_e, o.up_m)
    to_center = math.degrees(math.atan2(-re, -rn)) % 360.0
    error = dist - o.radius_m
    if abs(error) > 5.0:
        k = o.radius_m / dist
        return pilot.fly_to(o.center_ne[0] + rn * k, o.center_ne[1] + re * k, o.up_m)
    speed = min(
        o.speed_mps,
        pilot.param("MPC_XY_VEL_MAX"),
        math.sqrt(pilot.param("MPC_ACC_HOR") * o.radius_m),
    )
    tn, te = -re / dist * o.direction, rn / dist * o.direction
    corr = -error * 1.0
    vn = tn * speed + rn / dist * corr
    ve = te * speed + re / dist * corr
    vert, _ = pilot.fly_to(m.north_m, m.east_m, o.up_m)
    heading: float | None
    if o.yaw_behaviour == 0:
        heading = to_center
    elif o.yaw_behaviour in (1, 4):
        heading = start_heading_deg
    elif o.yaw_behaviour == 3:
        heading = math.degrees(math.atan2(te, tn)) % 360.0
    else:
        heading = None
    return Velocity(vn, ve, vert.up_mps), heading
