"""The way home as a mission: the legal route from where the drone is to its dock, flown
at the planned cruise speed, landing on the dock.

Also when the straight line is legal: PX4's RTL alone flies home at MPC_XY_CRUISE
(5 m/s by default; it resets the mission's speed), twice as long as planned — seen on
real PX4 in the ten-call benchmark.
"""

from __future__ import annotations

import math

from dfr.fleet.drone_state import DroneState
from dfr.fleet.mission_encoding import RawItem, encode_mission
from dfr.planning.mission import (
    MAV_CMD_NAV_WAYPOINT,
    MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
    MissionItem,
)
from dfr.planning.planner import Planner
from dfr.planning.wind import Wind

MAV_CMD_NAV_LAND = 21


def home_mission(
    planner: Planner, drone_id: str, state: DroneState, wind: Wind
) -> list[RawItem] | None:
    """The legal way home from ``state``'s position, ending with a landing on the dock.
    None without a position (then PX4's RTL is the way)."""
    if not state.has_position:
        return None
    home = planner.energy_to_home(
        drone_id, state.lat_deg, state.lon_deg, max(0.0, state.alt_rel_m), wind=wind
    )
    drone = planner.drone(drone_id)
    alt = planner.cruise_alt_rel_m
    items: list[MissionItem] = []
    for x, y in home.points_xy[1:]:
        lat, lon = planner.frame.to_latlon(x, y)
        items.append(
            MissionItem(
                len(items),
                MAV_CMD_NAV_WAYPOINT,
                lat,
                lon,
                alt,
                planner.performance_of(drone).cruise_speed_mps,
                param2=10.0,
            )
        )
    if not items:
        return None
    raw = encode_mission(items)
    # land on the dock as the mission's last item, not RTL: a mission start that
    # arrives after a short mission ended would switch RTL back to a finished Mission
    # and leave the drone loitering over its dock (seen in the sim at 20x)
    dock_lat, dock_lon = planner.frame.to_latlon(*home.points_xy[-1])
    raw.append(
        RawItem(
            len(raw),
            MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
            MAV_CMD_NAV_LAND,
            0,
            1,
            0.0,
            0.0,
            0.0,
            math.nan,
            round(dock_lat * 1e7),
            round(dock_lon * 1e7),
            0.0,
            0,
        )
    )
    return raw
