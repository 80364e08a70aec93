"""What a sortie flies, and the missions built for it.

:class:`FlightPlan` is the mission (takeoff first, scene last), the geofence and the
scene with its arrival orbit. :func:`plan_for_route` builds it from a planned route,
with the summary the flight's record keeps (``properties.dfr_plan`` of its route);
:func:`plan_from_record` reads that summary back after a restart (the missions are on
the vehicle by then). :func:`mission_from_air` turns a route into a mission for a drone
already flying (a pilot's goto, a diversion).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from dfr.fleet.mission_encoding import MissionItemLike, encode_geofence, encode_mission
from dfr.planning.arrival import arrival_orbit
from dfr.planning.mission import MAV_CMD_NAV_TAKEOFF, MAV_CMD_NAV_WAYPOINT, MissionItem
from dfr.planning.planner import Planner
from dfr.planning.route import Route
from dfr.site import Policy


@dataclass(frozen=True, slots=True)
class FlightPlan:
    """What a sortie flies: the mission (takeoff first, scene last), the fence, the scene."""

    mission: Sequence[MissionItemLike]
    geofence: Sequence[MissionItemLike]
    scene_lat_deg: float
    scene_lon_deg: float
    scene_alt_amsl_m: float  # altitude to orbit at
    orbit_lat_deg: float  # the ring's centre: the scene, or beside it where a zone is near
    orbit_lon_deg: float
    orbit_radius_m: float  # 0: no ring fits beside the zones; hold over the scene point
    orbit_speed_mps: float
    on_scene_time_s: float  # 0 = stay until a pilot sends it home
    last_route_seq: int  # the mission item whose arrival means "on scene"


def plan_for_route(
    planner: Planner, policy: Policy, route: Route, dock_alt_amsl_m: float
) -> tuple[FlightPlan, dict[str, Any]]:
    """The plan for ``route`` and the summary of it the flight's record keeps."""
    mission = encode_mission(planner.mission_items(route))
    fence = encode_geofence(planner.geofence(route))
    orbit = arrival_orbit(planner, route, policy.orbit_radius_m)
    plan = FlightPlan(
        mission=mission,
        geofence=fence,
        scene_lat_deg=route.scene.lat,
        scene_lon_deg=route.scene.lon,
        scene_alt_amsl_m=dock_alt_amsl_m + route.cruise_alt_rel_m,
        orbit_lat_deg=orbit.lat_deg,
        orbit_lon_deg=orbit.lon_deg,
        orbit_radius_m=orbit.radius_m,
        orbit_speed_mps=policy.orbit_speed_mps,
        on_scene_time_s=policy.on_scene_time_s,
        last_route_seq=len(mission) - 1,
    )
    stored = {
        "scene_lat_deg": plan.scene_lat_deg,
        "scene_lon_deg": plan.scene_lon_deg,
        "scene_alt_amsl_m": plan.scene_alt_amsl_m,
        "orbit_lat_deg": plan.orbit_lat_deg,
        "orbit_lon_deg": plan.orbit_lon_deg,
        "orbit_note": orbit.note,
        "orbit_radius_m": plan.orbit_radius_m,
        "orbit_speed_mps": plan.orbit_speed_mps,
        "on_scene_time_s": plan.on_scene_time_s,
        "last_route_seq": plan.last_route_seq,
        "mission_items": len(mission),
        "fence_items": len(fence),
    }
    return plan, stored


def plan_of(route_feature: dict[str, Any]) -> dict[str, Any]:
    """The plan's summary kept in a flight record's route."""
    plan: dict[str, Any] = route_feature.get("properties", {}).get("dfr_plan", {})
    return plan


def plan_from_record(route_feature: dict[str, Any]) -> FlightPlan:
    """The plan of a flight from its record, without the missions (on the vehicle)."""
    stored = plan_of(route_feature)
    return FlightPlan(
        mission=[],
        geofence=[],
        scene_lat_deg=stored["scene_lat_deg"],
        scene_lon_deg=stored["scene_lon_deg"],
        scene_alt_amsl_m=stored["scene_alt_amsl_m"],
        orbit_lat_deg=stored.get("orbit_lat_deg", stored["scene_lat_deg"]),
        orbit_lon_deg=stored.get("orbit_lon_deg", stored["scene_lon_deg"]),
        orbit_radius_m=stored["orbit_radius_m"],
        orbit_speed_mps=stored["orbit_speed_mps"],
        on_scene_time_s=stored["on_scene_time_s"],
        last_route_seq=stored["last_route_seq"],
    )


def mission_from_air(items: list[MissionItem], alt_rel_m: float) -> list[MissionItem]:
    """A route mission for a drone already flying: no takeoff, at the commanded altitude."""
    out = []
    for item in items:
        command = MAV_CMD_NAV_WAYPOINT if item.command == MAV_CMD_NAV_TAKEOFF else item.command
        out.append(
            replace(item, command=command, alt_rel_m=alt_rel_m, param2=max(item.param2, 10.0))
        )
    return out
