"""Flight profile: time and energy of a route for one airframe, with wind.

The sortie as PX4 flies it (:mod:`dfr.planning.px4_flight`, with the vehicle's own
limits): PX4's vertical takeoff at the dock to cruise altitude, legs at the cruise
ground speed (wind triangle per leg), PX4's start, corner and arrival slow-downs, time
on scene orbiting, the same legs back against the reversed track, PX4's landing onto
the dock, and the battery reserve. The speeds are the airframe's figures as the vehicle
will fly them (:func:`dfr.planning.vehicle_limits.flown_performance`).

Power model (multicopter, momentum theory + parasitic drag), calibrated from the
airframe's ``DronePerformance``::

    P(v) = P_hover · ι(v / v_h) + k · v³,   ι(μ) = sqrt(sqrt(1 + μ⁴/4) − μ²/2)

``ι`` is the normalised induced velocity of a rotor in forward flight (1 in hover,
falling with speed: translational lift), ``v_h = INDUCED_VELOCITY_HOVER_MPS`` the
hover induced velocity of a small DFR multicopter, and ``k`` is chosen so that
``P(cruise_speed_mps) = cruise_power_w`` (clamped at 0). Climb draws
``climb_power_w``; descent and on-scene hovering are charged ``hover_power_w``;
orbiting on scene is charged ``P(orbit_speed_mps)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dfr.planning.px4_flight import (
    arrival_penalty_s,
    corner_penalty_s,
    landing_s,
    start_penalty_s,
    takeoff_s,
)
from dfr.planning.vehicle_limits import VehicleLimits
from dfr.planning.wind import CALM, Wind, ground_speed_mps
from dfr.site import DronePerformance

PX4_DEFAULTS = VehicleLimits()
INDUCED_VELOCITY_HOVER_MPS = 6.0
WH_PER_J = 1.0 / 3600.0


def _induced_factor(mu: float) -> float:
    return math.sqrt(math.sqrt(1.0 + mu**4 / 4.0) - mu * mu / 2.0)


@dataclass(frozen=True, slots=True)
class PowerModel:
    hover_w: float
    climb_w: float
    parasitic_w_per_mps3: float

    @classmethod
    def from_performance(cls, perf: DronePerformance) -> PowerModel:
        vc = perf.cruise_speed_mps
        induced = perf.hover_power_w * _induced_factor(vc / INDUCED_VELOCITY_HOVER_MPS)
        k = max(0.0, (perf.cruise_power_w - induced) / vc**3)
        return cls(perf.hover_power_w, perf.climb_power_w, k)

    def level_w(self, airspeed_mps: float) -> float:
        """Electrical power in level flight at ``airspeed_mps``."""
        mu = airspeed_mps / INDUCED_VELOCITY_HOVER_MPS
        return self.hover_w * _induced_factor(mu) + self.parasitic_w_per_mps3 * airspeed_mps**3


@dataclass(frozen=True, slots=True)
class LegEstimate:
    """One straight leg of the route (local frame metres)."""

    start_xy: tuple[float, float]
    end_xy: tuple[float, float]
    distance_m: float
    track_deg: float  # true course, clockwise from north
    ground_speed_mps: float  # <= 0: the wind makes the leg infeasible
    time_s: float
    energy_wh: float

    @property
    def feasible(self) -> bool:
        return self.ground_speed_mps > 0 and math.isfinite(self.time_s)


@dataclass(frozen=True, slots=True)
class FlightEstimate:
    """Times and energy of out + on scene + back, and whether the battery allows it."""

    climb_s: float
    eta_s: float  # launch → over the scene at cruise altitude
    out_energy_wh: float
    on_scene_s: float
    on_scene_energy_wh: float
    return_s: float  # leaving the scene → landed on the dock
    return_energy_wh: float
    total_energy_wh: float
    usable_energy_wh: float  # battery × charge − reserve
    reserve_wh: float
    legs: tuple[LegEstimate, ...]
    return_legs: tuple[LegEstimate, ...]
    reasons: tuple[str, ...]  # why it is not feasible (empty when feasible)

    @property
    def feasible(self) -> bool:
        return not self.reasons


def _track_deg(dx: float, dy: float) -> float:
    return math.degrees(math.atan2(dx, dy)) % 360.0


def _turn_rad(a: LegEstimate, b: LegEstimate) -> float:
    diff = abs(a.track_deg - b.track_deg) % 360.0
    return math.radians(min(diff, 360.0 - diff))


def trajectory_limits(perf: DronePerformance, limits: VehicleLimits | None) -> VehicleLimits:
    """PX4's trajectory limits, with the climb/descent the plan flies (``perf``)."""
    base = limits or PX4_DEFAULTS
    return replace(base, z_up_mps=perf.climb_speed_mps, z_down_mps=perf.descent_speed_mps)


def fly_legs(
    points_xy: Sequence[tuple[float, float]],
    perf: DronePerformance,
    wind: Wind = CALM,
    power: PowerModel | None = None,
    limits: VehicleLimits | None = None,
) -> tuple[tuple[LegEstimate, ...], float, float]:
    """Legs along a polyline at cruise airspeed, from a hover to the last waypoint
    (reached at the mission's acceptance radius): (legs, total time s, total energy Wh).

    Totals include PX4's start, corner and arrival slow-downs.
    """
    power = power or PowerModel.from_performance(perf)
    px4 = limits or PX4_DEFAULTS
    v = perf.cruise_speed_mps
    p_cruise = power.level_w(v)
    legs: list[LegEstimate] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points_xy):
        dx, dy = x1 - x0, y1 - y0
        dist = math.hypot(dx, dy)
        if dist < 1e-6:
            continue
        gs = ground_speed_mps(v, dx, dy, wind)
        t = dist / gs if gs > 1e-9 else math.inf
        legs.append(
            LegEstimate(
                (x0, y0), (x1, y1), dist, _track_deg(dx, dy), gs, t, p_cruise * t * WH_PER_J
            )
        )
    if not legs:
        return (), 0.0, 0.0
    if not all(leg.feasible for leg in legs):
        return tuple(legs), math.inf, math.inf
    penalty_s = start_penalty_s(legs[0].ground_speed_mps, px4)
    for a, b in itertools.pairwise(legs):
        penalty_s += corner_penalty_s(_turn_rad(a, b), a.ground_speed_mps, b.ground_speed_mps, px4)
    penalty_s += arrival_penalty_s(legs[-1].ground_speed_mps, px4)
    time_s = sum(leg.time_s for leg in legs) + penalty_s
    energy_wh = sum(leg.energy_wh for leg in legs) + p_cruise * penalty_s * WH_PER_J
    return tuple(legs), time_s, energy_wh


def estimate_flight(
    points_xy: Sequence[tuple[float, float]],
    perf: DronePerformance,
    *,
    cruise_alt_rel_m: float,
    on_scene_s: float,
    orbit_speed_mps: float = 5.0,
    wind: Wind = CALM,
    charge_frac: float = 1.0,
    limits: VehicleLimits | None = None,
) -> FlightEstimate:
    """Out along ``points_xy`` (dock first), on scene, and back the same way, as PX4 with
    ``limits`` (PX4's defaults when the vehicle has not said) flies it."""
    power = PowerModel.from_performance(perf)
    px4 = trajectory_limits(perf, limits)
    reasons: list[str] = []
    if wind.speed_mps > perf.max_wind_mps:
        reasons.append(
            f"wind {wind.speed_mps:.1f} m/s is above the airframe limit {perf.max_wind_mps:.1f} m/s"
        )
    climb_s = takeoff_s(cruise_alt_rel_m, px4)
    climb_wh = power.climb_w * climb_s * WH_PER_J
    legs, out_s, out_wh = fly_legs(points_xy, perf, wind, power, px4)
    back_legs, back_s, back_wh = fly_legs(list(reversed(points_xy)), perf, wind, power, px4)
    descent_s = landing_s(cruise_alt_rel_m, px4)
    descent_wh = power.hover_w * descent_s * WH_PER_J
    scene_wh = power.level_w(orbit_speed_mps) * on_scene_s * WH_PER_J
    for name, group in (("out", legs), ("back", back_legs)):
        for i, leg in enumerate(group):
            if not leg.feasible:
                reasons.append(
                    f"leg {i + 1} {name} (track {leg.track_deg:.0f}°): wind "
                    f"{wind.speed_mps:.1f} m/s from {wind.from_deg:.0f}° leaves no ground "
                    f"speed at {perf.cruise_speed_mps:.1f} m/s airspeed"
                )
    out_total = climb_wh + out_wh
    ret_total = back_wh + descent_wh
    total = out_total + scene_wh + ret_total
    reserve = perf.battery_wh * perf.reserve_pct / 100.0
    usable = perf.battery_wh * max(0.0, min(1.0, charge_frac)) - reserve
    if math.isfinite(total) and total > usable:
        reasons.append(
            f"needs {total:.0f} Wh (out {out_total:.0f} + on scene {scene_wh:.0f} + "
            f"back {ret_total:.0f}) but only {usable:.0f} Wh are usable above the "
            f"{perf.reserve_pct:.0f} % reserve"
        )
    return FlightEstimate(
        climb_s=climb_s,
        eta_s=climb_s + out_s,
        out_energy_wh=out_total,
        on_scene_s=on_scene_s,
        on_scene_energy_wh=scene_wh,
        return_s=back_s + descent_s,
        return_energy_wh=ret_total,
        total_energy_wh=total,
        usable_energy_wh=usable,
        reserve_wh=reserve,
        legs=legs,
        return_legs=back_legs,
        reasons=tuple(reasons),
    )


def still_air_endurance_s(perf: DronePerformance) -> float:
    """Cruise endurance in still air down to the reserve (sanity figure for a site)."""
    power = PowerModel.from_performance(perf)
    return (
        perf.battery_wh
        * (1 - perf.reserve_pct / 100.0)
        / power.level_w(perf.cruise_speed_mps)
        * 3600.0
    )
