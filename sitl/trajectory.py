"""PX4's multicopter AUTO velocity target: the speed and direction the trajectory aims at.

The first half of PX4's trajectory generator, re-implemented from PX4 main 02e73e3:

* ``lib/mathlib/math/TrajMath.hpp``: :func:`max_speed_from_distance`
  (``computeMaxSpeedFromDistance``, the speed from which the jerk/acceleration limits still
  stop at a point, or pass it at a given speed) and :func:`max_speed_in_waypoint`
  (``computeMaxSpeedInWaypoint``, the corner speed);
* ``lib/motion_planning/TrajectoryConstraints.hpp`` ``computeXYSpeedFromWaypoints<3>``:
  :func:`xy_speed_limit`, evaluated backwards over [P, W1, W2];
* ``lib/motion_planning/PositionSmoothing.cpp`` ``_generateVelocitySetpoint``,
  ``_getMaxZSpeed``, ``_isTurning``, ``_getL1Point``: :func:`velocity_target`.

P is the *trajectory's* position (:attr:`sitl.motion.Motion.traj_ne`), as in PX4, not the
vehicle's. The second half (jerk-limited smoothing towards this target, the position and
velocity controllers, the airframe's physics) is :mod:`sitl.motion`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EPS = 1e-6


def max_speed_from_distance(
    jerk: float, accel: float, distance_m: float, final_mps: float
) -> float:
    """TrajMath computeMaxSpeedFromDistance."""
    b = 4.0 * accel * accel / jerk
    c = -2.0 * accel * distance_m - final_mps * final_mps
    return max(0.5 * (-b + math.sqrt(max(b * b - 4.0 * c, 0.0))), final_mps)


def max_speed_in_waypoint(alpha_rad: float, accel: float, radius_m: float) -> float:
    """TrajMath computeMaxSpeedInWaypoint: ``sqrt(accel * radius * tan(alpha / 2))``."""
    return math.sqrt(max(accel * radius_m * math.tan(alpha_rad / 2.0), 0.0))


def _angle(ax: float, ay: float, bx: float, by: float) -> float:
    """The angle between two 2D vectors (0 for a zero vector, like unit_or_zero)."""
    na, nb = math.hypot(ax, ay), math.hypot(bx, by)
    if na < EPS or nb < EPS:
        return math.acos(0.0)
    return math.acos(max(-1.0, min(1.0, (ax * bx + ay * by) / (na * nb))))


@dataclass(frozen=True, slots=True)
class XYLimits:
    cruise_mps: float  # the triplet's cruise speed, already capped by MPC_XY_VEL_MAX
    accel_mps2: float  # MPC_ACC_HOR
    jerk_mps3: float  # MPC_JERK_AUTO
    radius_m: float  # the current setpoint's acceptance radius
    traj_p: float  # MPC_XY_TRAJ_P


def _start_speed(
    start: tuple[float, float],
    target: tuple[float, float],
    next_target: tuple[float, float],
    exit_mps: float,
    lim: XYLimits,
) -> float:
    """TrajectoryConstraints computeStartXYSpeedFromWaypoints."""
    tn, te = target[0] - next_target[0], target[1] - next_target[1]
    dist_target_next = math.hypot(tn, te)
    speed_at_target = 0.0
    if dist_target_next > 0.001 and dist_target_next >= lim.radius_m:
        alpha = _angle(target[0] - start[0], target[1] - start[1], tn, te)
        alpha = min(max(alpha, 0.0), math.pi - 1e-6)
        turn = max_speed_in_waypoint(alpha, lim.traj_p * lim.accel_mps2, lim.radius_m)
        speed_at_target = min(turn, exit_mps, lim.cruise_mps)
    start_to_target = math.hypot(start[0] - target[0], start[1] - target[1])
    v = max_speed_from_distance(lim.jerk_mps3, lim.accel_mps2, start_to_target, speed_at_target)
    return min(lim.cruise_mps, v)


def xy_speed_limit(
    p: tuple[float, float], w1: tuple[float, float], w2: tuple[float, float], lim: XYLimits
) -> float:
    """computeXYSpeedFromWaypoints<3> over [P, W1, W2] (W2 = W1 when there is no next)."""
    exit_mps = _start_speed(w1, w2, w2, 0.0, lim)
    return _start_speed(p, w1, w2, exit_mps, lim)


def z_speed_limit(
    p_up: float,
    w1_up: float,
    w2_up: float,
    *,
    p_xy_norm: float,
    w1_xy_norm: float,
    w2_xy_norm: float,
    vmax_mps: float,
    accel_mps2: float,
    jerk_mps3: float,
    alt_radius_m: float,
) -> float:
    """PositionSmoothing::_getMaxZSpeed (the "xy" coordinate is the norm of the local
    position, as PX4 computes it)."""
    arrival = 0.0
    if abs(w1_up - w2_up) > 0.001:
        alpha = _angle(w1_xy_norm - p_xy_norm, w1_up - p_up, w1_xy_norm - w2_xy_norm, w1_up - w2_up)
        alpha = min(max(alpha, 0.0), math.pi - 1e-6)
        arrival = min(max_speed_in_waypoint(alpha, accel_mps2, alt_radius_m), vmax_mps)
    return min(vmax_mps, max_speed_from_distance(jerk_mps3, accel_mps2, abs(w1_up - p_up), arrival))


def is_turning(
    traj_v: tuple[float, float],
    p: tuple[float, float],
    target: tuple[float, float],
    radius_m: float,
) -> bool:
    """PositionSmoothing::_isTurning: moving (> 0.2 m/s), more than ~11 degrees off the
    direction to the target, and outside its acceptance radius."""
    speed = math.hypot(*traj_v)
    dn, de = target[0] - p[0], target[1] - p[1]
    dist = math.hypot(dn, de)
    if speed <= 0.2 or dist <= radius_m:
        return False
    cos_align = (traj_v[0] * dn + traj_v[1] * de) / (speed * dist) if dist > EPS else 0.0
    return cos_align < 0.98


def l1_point(
    p: tuple[float, float], w0: tuple[float, float], w1: tuple[float, float], radius_m: float
) -> tuple[float, float]:
    """PositionSmoothing::_getL1Point: where a circle of max(R, 5 m) around P crosses W0→W1."""
    ln, le = w1[0] - w0[0], w1[1] - w0[1]
    length = math.hypot(ln, le)
    if length < EPS:
        return w1
    un, ue = ln / length, le / length
    along = (p[0] - w0[0]) * un + (p[1] - w0[1]) * ue
    cn, ce = w0[0] + un * along, w0[1] + ue * along
    cross = math.hypot(cn - p[0], ce - p[1])
    l1 = max(radius_m, 5.0)
    ahead = math.sqrt(l1 * l1 - cross * cross) if l1 > cross else 0.0
    return cn + un * ahead, ce + ue * ahead


@dataclass(frozen=True, slots=True)
class Triplet:
    """PX4's position setpoint triplet in the local frame (north, east, up), metres."""

    current: tuple[float, float, float]
    previous: tuple[float, float, float] | None = None
    next: tuple[float, float, float] | None = None  # None: stop at ``current``
    radius_m: float = 2.0  # the current setpoint's acceptance radius


@dataclass(frozen=True, slots=True)
class ZLimits:
    vmax_mps: float  # MPC_Z_V_AUTO_UP / _DN, or MPC_TKO_SPEED below MPC_LAND_ALT1 on takeoff
    accel_mps2: float  # MPC_ACC_UP_MAX / _DOWN_MAX, or TKO_SPEED / TKO_RAMP_T on takeoff
    jerk_mps3: float
    alt_radius_m: float  # NAV_MC_ALT_RAD


def _clamp_norm(
    v: list[float], norm: float, limit: float, part: tuple[int, ...], accuracy: float = 0.5
) -> None:
    """clampToXYNorm / clampToZNorm: scale the whole vector down, or only the clamped
    ``part`` when both the limit and the norm are tiny."""
    if norm <= EPS or limit >= norm:
        return
    scale = limit / norm
    for i in part if (limit < accuracy and norm < accuracy) else (0, 1, 2):
        v[i] *= scale


class VelocityTarget:
    """PositionSmoothing::_generateVelocitySetpoint, with its turn memory."""

    __slots__ = ("_max_speed_previous",)

    def __init__(self) -> None:
        self._max_speed_previous = 0.0

    def compute(
        self,
        p: tuple[float, float, float],
        traj_v_ne: tuple[float, float],
        triplet: Triplet,
        xy: XYLimits,
        z: ZLimits,
    ) -> tuple[float, float, float]:
        w1 = triplet.current
        single = triplet.next is None
        w2 = w1 if triplet.next is None else triplet.next
        w0 = triplet.previous if triplet.previous is not None else p
        p_ne, w1_ne = (p[0], p[1]), (w1[0], w1[1])
        turning = not single and is_turning(traj_v_ne, p_ne, w1_ne, xy.radius_m)
        crossing = w1
        if turning:
            cn, ce = l1_point(p_ne, (w0[0], w0[1]), w1_ne, xy.radius_m)
            crossing = (cn, ce, w1[2])
        xy_speed = xy_speed_limit(p_ne, w1_ne, (w2[0], w2[1]), xy)
        z_speed = z_speed_limit(
            p[2],
            w1[2],
            w2[2],
            p_xy_norm=math.hypot(p[0], p[1]),
            w1_xy_norm=math.hypot(w1[0], w1[1]),
            w2_xy_norm=math.hypot(w2[0], w2[1]),
            vmax_mps=z.vmax_mps,
            accel_mps2=z.accel_mps2,
            jerk_mps3=z.jerk_mps3,
            alt_radius_m=z.alt_radius_m,
        )
        if turning:
            xy_speed = min(self._max_speed_previous, xy_speed)  # held through the turn
        else:
            self._max_speed_previous = xy_speed
        d = [crossing[0] - p[0], crossing[1] - p[1], crossing[2] - p[2]]
        length = math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
        if length < EPS:
            return 0.0, 0.0, 0.0
        speed = math.sqrt(xy_speed * xy_speed + z_speed * z_speed)
        v = [d[0] / length * speed, d[1] / length * speed, d[2] / length * speed]
        _clamp_norm(v, math.hypot(v[0], v[1]), xy_speed, (0, 1))
        _clamp_norm(v, abs(v[2]), z_speed, (2,))
        return v[0], v[1], v[2]
