"""Which items each plan type (mission, fence, rally) accepts, and a plan's opaque id.

As PX4's ``mavlink_mission.cpp``: an item of a command the plan type does not take is
refused with the matching MAV_MISSION_RESULT. A plan's id is the CRC32 of its items (0 when
empty), sent as ``opaque_id`` by :mod:`sitl.mission_transfer`.
"""

from __future__ import annotations

import math
import struct
import zlib
from enum import IntEnum

from sitl.mission_item import ACCEPTED_FRAMES, MissionItem, MissionType

FENCE_COMMANDS = frozenset({5000, 5001, 5002, 5003, 5004})
RALLY_COMMANDS = frozenset({5100})
MISSION_COMMANDS = frozenset(
    {
        16,
        17,
        18,
        19,
        20,
        21,
        22,
        31,
        84,
        85,
        93,
        112,
        114,
        177,
        178,
        179,
        183,
        187,
        189,
        195,
        197,
        200,
        201,
        205,
        206,
        211,
        214,
        400,
        530,
        531,
        532,
        1000,
        1001,
        2000,
        2001,
        2003,
        2004,
        2500,
        2501,
        3000,
        42600,
    }
)


class MissionResult(IntEnum):
    """MAV_MISSION_RESULT."""

    ACCEPTED = 0
    ERROR = 1
    UNSUPPORTED_FRAME = 2
    UNSUPPORTED = 3
    NO_SPACE = 4
    INVALID = 5
    INVALID_SEQUENCE = 13
    DENIED = 14


def check_item(plan_type: MissionType, item: MissionItem) -> MissionResult:
    """ACCEPTED, or why an item may not be part of a plan of ``plan_type``."""
    if item.frame not in ACCEPTED_FRAMES:
        return MissionResult.UNSUPPORTED_FRAME
    if plan_type is MissionType.MISSION:
        if item.command in FENCE_COMMANDS or item.command in RALLY_COMMANDS:
            return MissionResult.ERROR
        if item.command not in MISSION_COMMANDS:
            return MissionResult.UNSUPPORTED
    elif plan_type is MissionType.FENCE:
        if item.command not in FENCE_COMMANDS:
            return MissionResult.UNSUPPORTED
        if item.command in (5003, 5004) and not (math.isfinite(item.param1) and item.param1 >= 0):
            return MissionResult.INVALID
    elif item.command not in RALLY_COMMANDS:
        return MissionResult.UNSUPPORTED
    return MissionResult.ACCEPTED


def plan_id(items: list[MissionItem]) -> int:
    crc = 0
    for it in items:
        crc = zlib.crc32(
            struct.pack(
                "<HHBffffiif",
                it.command,
                it.seq,
                it.frame,
                it.param1,
                it.param2,
                it.param3,
                it.param4,
                it.x,
                it.y,
                it.z,
            ),
            crc,
        )
    return crc & 0xFFFFFFFF
