"""Mission items for the flight code, and the QGroundControl ``.plan`` of a route.

Items are plain values carrying the MAVLink command ids (no pymavlink here): the
flight code turns them into ``MISSION_ITEM_INT`` (frame
``MAV_FRAME_GLOBAL_RELATIVE_ALT_INT``: altitude relative to home = the dock pad).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dfr.planning.geofence import Geofence
from dfr.planning.route import Route

MAV_CMD_NAV_WAYPOINT = 16
MAV_CMD_NAV_LOITER_UNLIM = 17
MAV_CMD_NAV_TAKEOFF = 22
MAV_FRAME_GLOBAL_RELATIVE_ALT = 3
MAV_FRAME_GLOBAL_RELATIVE_ALT_INT = 6
PX4_FIRMWARE_TYPE = 12  # MAV_AUTOPILOT_PX4
MULTIROTOR_VEHICLE_TYPE = 2  # MAV_TYPE_QUADROTOR


@dataclass(frozen=True, slots=True)
class MissionItem:
    """One mission item: position at an altitude relative to home, and the speed to fly it."""

    seq: int
    command: int
    lat: float
    lon: float
    alt_rel_m: float
    speed_mps: float
    param1: float = 0.0  # hold time s (waypoint) / pitch (takeoff)
    param2: float = 0.0  # acceptance radius m (waypoint)
    param3: float = 0.0  # loiter radius m (loiter)
    param4: float = float("nan")  # yaw: NaN = autopilot's choice
    frame: int = MAV_FRAME_GLOBAL_RELATIVE_ALT_INT


def mission_items(
    route: Route, loiter_radius_m: float = 60.0, acceptance_m: float = 10.0
) -> list[MissionItem]:
    """Takeoff over the dock, one waypoint per route vertex, loiter over the scene."""
    alt = route.cruise_alt_rel_m
    speed = route.cruise_speed_mps
    start = route.waypoints[0]
    items = [MissionItem(0, MAV_CMD_NAV_TAKEOFF, start.lat, start.lon, alt, speed)]
    for wp in route.waypoints[1:-1]:
        items.append(
            MissionItem(
                len(items), MAV_CMD_NAV_WAYPOINT, wp.lat, wp.lon, alt, speed, param2=acceptance_m
            )
        )
    scene = route.waypoints[-1]
    items.append(
        MissionItem(
            len(items), MAV_CMD_NAV_WAYPOINT, scene.lat, scene.lon, alt, speed, param2=acceptance_m
        )
    )
    items.append(
        MissionItem(
            len(items),
            MAV_CMD_NAV_LOITER_UNLIM,
            scene.lat,
            scene.lon,
            alt,
            speed,
            param3=loiter_radius_m,
        )
    )
    return items


def qgc_plan(
    route: Route, fence: Geofence, home_alt_amsl_m: float, loiter_radius_m: float = 60.0
) -> dict[str, Any]:
    """A QGroundControl ``.plan`` document: the mission at cruise altitude + the fence."""
    items_json = []
    for item in mission_items(route, loiter_radius_m):
        yaw = None if item.param4 != item.param4 else item.param4
        items_json.append(
            {
                "type": "SimpleItem",
                "autoContinue": True,
                "command": item.command,
                "doJumpId": item.seq + 1,
                "frame": MAV_FRAME_GLOBAL_RELATIVE_ALT,
                "params": [
                    item.param1,
                    item.param2,
                    item.param3,
                    yaw,
                    item.lat,
                    item.lon,
                    item.alt_rel_m,
                ],
                "Altitude": item.alt_rel_m,
                "AltitudeMode": 1,
                "AMSLAltAboveTerrain": None,
            }
        )
    start = route.waypoints[0]
    return {
        "fileType": "Plan",
        "version": 1,
        "groundStation": "dfr",
        "mission": {
            "version": 2,
            "firmwareType": PX4_FIRMWARE_TYPE,
            "vehicleType": MULTIROTOR_VEHICLE_TYPE,
            "cruiseSpeed": route.cruise_speed_mps,
            "hoverSpeed": 5,
            "globalPlanAltitudeMode": 1,
            "plannedHomePosition": [start.lat, start.lon, home_alt_amsl_m],
            "items": items_json,
        },
        "geoFence": fence.to_qgc(),
        "rallyPoints": {"version": 2, "points": []},
    }
