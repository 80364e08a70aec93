"""The scene of an incident as the planner flies to it, and the route assembled to it.

:func:`scene_for_goal` settles where a drone can legally be over a requested goal
(the goal itself, or the nearest legal point when it lies inside a zone, with the
note that entering needs authorisation); :func:`route_to_scene` turns a shortest
path to that point into a :class:`~dfr.planning.route.Route` with its ETA / energy
estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dfr.geo.frame import LocalFrame
from dfr.planning.profile import estimate_flight
from dfr.planning.route import Route, Waypoint
from dfr.planning.vehicle_limits import VehicleLimits
from dfr.planning.visibility import ShortestPath, VisibilityGraph
from dfr.planning.wind import Wind
from dfr.site import DronePerformance, Policy

XY = tuple[float, float]
LatLon = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Scene:
    """Where a route ends: the goal as asked, and the legal point over it (metres)."""

    requested_ll: LatLon  # (lat, lon) as asked
    xy: XY  # the point flown to, in the site frame
    authorisation_required: bool  # the goal is inside a zone; ``xy`` moved out of it
    notes: tuple[str, ...]  # which zones hold the goal, and how far it moved


def scene_for_goal(
    graph: VisibilityGraph,
    frame: LocalFrame,
    goal_ll: LatLon,
    zone_names_at: Callable[[XY], list[str]],
) -> Scene:
    """Legal scene point for a goal; moved to the nearest legal point if inside a zone."""
    goal_xy = frame.to_xy(*goal_ll)
    if graph.point_free(goal_xy):
        return Scene(goal_ll, goal_xy, False, ())
    notes = zone_names_at(goal_xy)
    moved = graph.nearest_free_point(goal_xy, clearance_m=1.0)
    dist = math.dist(moved, goal_xy)
    note = f"scene moved {dist:.0f} m to the nearest legal point; entering needs authorisation"
    return Scene(goal_ll, moved, True, (*notes, note))


def route_to_scene(
    drone_id: str,
    path: ShortestPath,
    scene: Scene,
    *,
    start_ll: LatLon | None,
    frame: LocalFrame,
    cruise_alt_rel_m: float,
    perf: DronePerformance,
    vehicle_limits: VehicleLimits | None,
    policy: Policy,
    wind: Wind,
    charge_frac: float,
    obstacles_hash: str,
) -> Route:
    """The route along ``path`` (start -> scene), with its flight estimate.

    The first waypoint is ``start_ll`` exactly when given (no round trip through the
    frame); the last is the requested goal exactly unless the scene had to move.
    """
    est = estimate_flight(
        path.points_xy,
        perf,
        cruise_alt_rel_m=cruise_alt_rel_m,
        on_scene_s=policy.on_scene_time_s,
        orbit_speed_mps=policy.orbit_speed_mps,
        wind=wind,
        charge_frac=charge_frac,
        limits=vehicle_limits,
    )
    lonlat = frame.xy_to_lonlat(np.asarray(path.points_xy, dtype=float))
    wps = [Waypoint(float(lat), float(lon)) for lon, lat in lonlat]
    if start_ll is not None:  # exact coordinates at the start, no round trip
        wps[0] = Waypoint(*start_ll)
    if not scene.authorisation_required:  # the scene is the requested point: keep it exact
        wps[-1] = Waypoint(*scene.requested_ll)
    return Route(
        drone_id=drone_id,
        waypoints=tuple(wps),
        points_xy=path.points_xy,
        distance_m=path.length_m,
        cruise_alt_rel_m=cruise_alt_rel_m,
        cruise_speed_mps=perf.cruise_speed_mps,
        estimate=est,
        wind=wind,
        requested_goal=Waypoint(*scene.requested_ll),
        authorisation_required=scene.authorisation_required,
        notes=scene.notes,
        obstacles_hash=obstacles_hash,
    )
