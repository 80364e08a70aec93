"""Multicopter kinematics: a point mass that follows velocity setpoints.

The navigator computes a desired velocity (north/east/up, m/s) from PX4's speed
parameters; :class:`Motion` moves towards it with PX4-like acceleration limits
(``MPC_ACC_HOR``, ``MPC_ACC_UP_MAX``/``MPC_ACC_DOWN_MAX``), slews heading at a
limited yaw rate, and keeps the vehicle on or above the ground. Wind does not push
a position-controlled multicopter off its track; it changes the airspeed, which
caps the ground speed (a headwind above the airframe's max airspeed slows it) and
drives the battery's power draw (:mod:`sitl.battery`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

GRAVITY_MPS2 = 9.81


@dataclass(frozen=True, slots=True)
class Wind:
    from_deg: float = 0.0  # direction the wind blows FROM, degrees true
    speed_mps: float = 0.0
    gust_mps: float = 0.0  # gust amplitude (random, smooth, seeded)


@dataclass(frozen=True, slots=True)
class Velocity:
    north_mps: float = 0.0
    east_mps: float = 0.0
    up_mps: float = 0.0


class WindField:
    """Constant wind plus smooth seeded gusts (a sum of a few sinusoids)."""

    def __init__(self, wind: Wind, seed: int) -> None:
        self.wind = wind
        rng = random.Random(seed)
        self._terms = [
            (rng.uniform(0.05, 0.5), rng.uniform(0.0, 2 * math.pi), rng.uniform(0.3, 1.0))
            for _ in range(3)
        ]
        self._norm = sum(t[2] for t in self._terms) or 1.0

    def velocity_ne(self, time_s: float) -> tuple[float, float]:
        """Air mass velocity (north, east) in m/s at vehicle time ``time_s``."""
        speed = self.wind.speed_mps
        if self.wind.gust_mps > 0:
            gust = sum(a * math.sin(f * 2 * math.pi * time_s + p) for f, p, a in self._terms)
            speed = max(0.0, speed + self.wind.gust_mps * gust / self._norm)
        toward_rad = math.radians(self.wind.from_deg + 180.0)
        return speed * math.cos(toward_rad), speed * math.sin(toward_rad)


def _approach(current: float, target: float, max_step: float) -> float:
    if target > current:
        return min(target, current + max_step)
    return max(target, current - max_step)


def cap_ground_velocity(
    vn: float, ve: float, wind_n: float, wind_e: float, max_air_mps: float
) -> tuple[float, float]:
    """Scale a desired ground velocity down so the airspeed stays within ``max_air_mps``."""
    an, ae = vn - wind_n, ve - wind_e
    if an * an + ae * ae <= max_air_mps * max_air_mps:
        return vn, ve
    # find s in [0, 1]: |s*v - w| = max  →  a s² + b s + c = 0
    a = vn * vn + ve * ve
    b = -2.0 * (vn * wind_n + ve * wind_e)
    c = wind_n * wind_n + wind_e * wind_e - max_air_mps * max_air_mps
    disc = b * b - 4 * a * c
    if a <= 0 or disc < 0:
        return 0.0, 0.0
    s = (-b + math.sqrt(disc)) / (2 * a)
    s = min(1.0, max(0.0, s))
    return vn * s, ve * s


class Motion:
    """Position (local frame, metres) and velocity of one vehicle."""

    __slots__ = (
        "acc_down_mps2",
        "acc_hor_mps2",
        "acc_up_mps2",
        "east_m",
        "heading_deg",
        "max_air_mps",
        "north_m",
        "pitch_rad",
        "roll_rad",
        "up_m",
        "ve_mps",
        "vn_mps",
        "vu_mps",
        "yaw_rate_dps",
    )

    def __init__(self, *, max_air_mps: float = 12.0) -> None:
        self.north_m = 0.0
        self.east_m = 0.0
        self.up_m = 0.0  # above the vehicle's ground (= home ground) level
        self.vn_mps = 0.0
        self.ve_mps = 0.0
        self.vu_mps = 0.0
        self.heading_deg = 0.0
        self.acc_hor_mps2 = 3.0
        self.acc_up_mps2 = 4.0
        self.acc_down_mps2 = 3.0
        self.yaw_rate_dps = 60.0
        self.roll_rad = 0.0
        self.pitch_rad = 0.0
        self.max_air_mps = max_air_mps

    @property
    def ground_speed_mps(self) -> float:
        return math.hypot(self.vn_mps, self.ve_mps)

    def step(
        self,
        dt_s: float,
        desired: Velocity,
        wind_ne: tuple[float, float],
        heading_target_deg: float | None,
    ) -> None:
        """Advance ``dt_s`` seconds of vehicle time towards the desired velocity."""
        dn, de = cap_ground_velocity(
            desired.north_mps, desired.east_mps, wind_ne[0], wind_ne[1], self.max_air_mps
        )
        # horizontal: limit the change of the velocity vector to acc*dt
        cn, ce = dn - self.vn_mps, de - self.ve_mps
        change = math.hypot(cn, ce)
        max_change = self.acc_hor_mps2 * dt_s
        if change > max_change > 0:
            cn, ce = cn * max_change / change, ce * max_change / change
        acc_n, acc_e = cn / dt_s if dt_s > 0 else 0.0, ce / dt_s if dt_s > 0 else 0.0
        self.vn_mps += cn
        self.ve_mps += ce
        acc = self.acc_up_mps2 if desired.up_mps > self.vu_mps else self.acc_down_mps2
        self.vu_mps = _approach(self.vu_mps, desired.up_mps, acc * dt_s)
        self.north_m += self.vn_mps * dt_s
        self.east_m += self.ve_mps * dt_s
        self.up_m += self.vu_mps * dt_s
        if self.up_m <= 0.0:
            self.up_m = 0.0
            self.vu_mps = max(0.0, self.vu_mps)
        if heading_target_deg is not None:
            diff = (heading_target_deg - self.heading_deg + 540.0) % 360.0 - 180.0
            step = self.yaw_rate_dps * dt_s
            diff = max(-step, min(step, diff))
            self.heading_deg = (self.heading_deg + diff) % 360.0
        # tilt from acceleration + wind drag compensation, for ATTITUDE
        yaw = math.radians(self.heading_deg)
        air_n, air_e = self.vn_mps - wind_ne[0], self.ve_mps - wind_ne[1]
        fn = acc_n + 0.05 * air_n
        fe = acc_e + 0.05 * air_e
        fwd = fn * math.cos(yaw) + fe * math.sin(yaw)
        right = -fn * math.sin(yaw) + fe * math.cos(yaw)
        self.pitch_rad = -math.atan2(fwd, GRAVITY_MPS2) if self.up_m > 0 else 0.0
        self.roll_rad = math.atan2(right, GRAVITY_MPS2) if self.up_m > 0 else 0.0

    def stop(self) -> None:
        self.vn_mps = self.ve_mps = self.vu_mps = 0.0


def velocity_towards(
    dn_m: float,
    de_m: float,
    du_m: float,
    *,
    speed_xy_mps: float,
    speed_up_mps: float,
    speed_down_mps: float,
    acc_xy_mps2: float,
    acc_z_mps2: float = 3.0,
) -> Velocity:
    """Velocity that reaches a point offset (dn, de, du) and slows to stop there."""
    dist_xy = math.hypot(dn_m, de_m)
    v_xy = 0.0
    vn = ve = 0.0
    if dist_xy > 0.01:
        v_xy = min(speed_xy_mps, math.sqrt(2.0 * acc_xy_mps2 * dist_xy) * 0.9, dist_xy * 1.5)
        vn, ve = dn_m / dist_xy * v_xy, de_m / dist_xy * v_xy
    vu = 0.0
    if abs(du_m) > 0.01:
        limit = speed_up_mps if du_m > 0 else speed_down_mps
        vu = min(limit, math.sqrt(2.0 * acc_z_mps2 * abs(du_m)) * 0.9, abs(du_m) * 1.5)
        vu = vu if du_m > 0 else -vu
    return Velocity(vn, ve, vu)
