"""The way home from wherever a drone is now, and what it costs: the monitor's estimate.

:func:`path_home` finds the legal path from the current position onto the dock (one
sweep into the dock's cached shortest-path tree); :func:`home_estimate` flies it
through the flight profile, with the climb back to cruise altitude and the landing,
and returns a :class:`HomeEstimate` the monitor compares with the battery.
"""

from __future__ import annotations

from dataclasses import dataclass

from dfr.planning.profile import PowerModel, fly_legs, trajectory_limits
from dfr.planning.px4_flight import climb_s, landing_s
from dfr.planning.vehicle_limits import VehicleLimits
from dfr.planning.visibility import PathTree, VisibilityGraph
from dfr.planning.wind import Wind
from dfr.site import DronePerformance

XY = tuple[float, float]


@dataclass(frozen=True, slots=True)
class HomeEstimate:
    """What it takes to get from the current position back onto the dock, now."""

    drone_id: str
    distance_m: float
    time_s: float
    energy_wh: float  # to get home and land (without the reserve)
    reserve_wh: float
    feasible: bool  # False if the wind forbids a leg
    points_xy: tuple[XY, ...]


def path_home(
    graph: VisibilityGraph, tree: PathTree | None, here_xy: XY, dock_xy: XY
) -> tuple[list[XY], bool]:
    """The points from ``here_xy`` onto the dock, and whether they are a legal path.

    A position inside a zone (authorised entry) first leaves it by the shortest way.
    With no legal way (or no tree: the dock cannot launch) the answer is straight
    home, marked not legal: the monitor must alert.
    """
    here = here_xy
    lead: list[XY] = []
    if not graph.point_free(here):
        lead = [here]
        here = graph.nearest_free_point(here, clearance_m=1.0)
    path = graph.paths_from_trees([tree], here)[0] if tree is not None else None
    if path is None:
        return [*lead, here, dock_xy], False
    return [*lead, *reversed(path.points_xy)], True


def home_estimate(
    drone_id: str,
    points_xy: list[XY],
    *,
    legal: bool,
    alt_rel_m: float,
    cruise_alt_rel_m: float,
    perf: DronePerformance,
    vehicle_limits: VehicleLimits | None,
    wind: Wind,
) -> HomeEstimate:
    """Fly ``points_xy`` at cruise altitude (climbing to it first) and land."""
    power = PowerModel.from_performance(perf)
    limits = trajectory_limits(perf, vehicle_limits)
    legs, time_s, energy_wh = fly_legs(points_xy, perf, wind, power, limits)
    up_s = climb_s(max(0.0, cruise_alt_rel_m - alt_rel_m), limits)
    down_s = landing_s(max(alt_rel_m, cruise_alt_rel_m), limits)
    time_s += up_s + down_s
    energy_wh += (power.climb_w * up_s + power.hover_w * down_s) / 3600.0
    feasible = all(leg.feasible for leg in legs) and legal
    distance = sum(leg.distance_m for leg in legs)
    return HomeEstimate(
        drone_id,
        distance,
        time_s,
        energy_wh,
        perf.battery_wh * perf.reserve_pct / 100.0,
        feasible,
        tuple(points_xy),
    )
