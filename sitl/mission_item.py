"""A stored mission/fence/rally item (what MISSION_ITEM_INT carries) and its altitude datum."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum


class MissionType(IntEnum):
    MISSION = 0
    FENCE = 1
    RALLY = 2
    ALL = 255


class Frame(IntEnum):
    GLOBAL = 0  # z AMSL
    MISSION = 2
    GLOBAL_RELATIVE_ALT = 3  # z above home
    GLOBAL_INT = 5
    GLOBAL_RELATIVE_ALT_INT = 6
    GLOBAL_TERRAIN_ALT = 10  # z above ground
    GLOBAL_TERRAIN_ALT_INT = 11


ACCEPTED_FRAMES = frozenset(int(f) for f in Frame)
AMSL_FRAMES = frozenset({Frame.GLOBAL, Frame.GLOBAL_INT})
REL_HOME_FRAMES = frozenset({Frame.GLOBAL_RELATIVE_ALT, Frame.GLOBAL_RELATIVE_ALT_INT})


@dataclass(frozen=True, slots=True)
class MissionItem:
    seq: int
    frame: int
    command: int
    current: int
    autocontinue: int
    param1: float
    param2: float
    param3: float
    param4: float
    x: int  # latitude * 1e7
    y: int  # longitude * 1e7
    z: float  # altitude, datum per frame
    mission_type: int

    @property
    def lat_deg(self) -> float:
        return self.x / 1e7

    @property
    def lon_deg(self) -> float:
        return self.y / 1e7

    @property
    def has_position(self) -> bool:
        return not (self.x == 0 and self.y == 0)

    def alt_up_m(self, *, ground_alt_amsl_m: float, home_alt_amsl_m: float) -> float | None:
        """The item's altitude as metres above the vehicle's ground, or None if unset."""
        if not math.isfinite(self.z):
            return None
        if self.frame in AMSL_FRAMES:
            return self.z - ground_alt_amsl_m
        if self.frame in REL_HOME_FRAMES:
            return home_alt_amsl_m + self.z - ground_alt_amsl_m
        if self.frame in (Frame.GLOBAL_TERRAIN_ALT, Frame.GLOBAL_TERRAIN_ALT_INT):
            return self.z
        return None
