"""Planner items → MAVLink ``MISSION_ITEM_INT`` as PX4 takes them.

Mission: the first item (the takeoff) is ``current``; a ``DO_CHANGE_SPEED`` (ground
speed) follows it, and again wherever the planned speed changes; positions are
1e7-scaled integers with altitude relative to home in ``MAV_FRAME_GLOBAL_RELATIVE_ALT_INT``.
Fence: one item per polygon vertex (param1 = vertex count) or circle (param1 = radius),
``MAV_FRAME_GLOBAL_INT``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: a link worker imports this without the planner
    from dfr.planning.geofence import Geofence
    from dfr.planning.mission import MissionItem

MAV_CMD_DO_CHANGE_SPEED = 178
MAV_FRAME_GLOBAL_INT = 5
MAV_FRAME_MISSION = 2
MISSION_TYPE_MISSION = 0
MISSION_TYPE_FENCE = 1
SPEED_TYPE_GROUND = 1.0


class MissionItemLike(Protocol):
    """A MAVLink MISSION_ITEM_INT as the flight code builds it (read-only fields): a
    :class:`RawItem`, or anything else with its fields."""

    @property
    def seq(self) -> int: ...
    @property
    def frame(self) -> int: ...
    @property
    def command(self) -> int: ...
    @property
    def current(self) -> int: ...
    @property
    def autocontinue(self) -> int: ...
    @property
    def param1(self) -> float: ...
    @property
    def param2(self) -> float: ...
    @property
    def param3(self) -> float: ...
    @property
    def param4(self) -> float: ...
    @property
    def x(self) -> int: ...
    @property
    def y(self) -> int: ...
    @property
    def z(self) -> float: ...
    @property
    def mission_type(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RawItem:
    seq: int
    frame: int
    command: int
    current: int
    autocontinue: int
    param1: float
    param2: float
    param3: float
    param4: float
    x: int
    y: int
    z: float
    mission_type: int


def _speed_item(seq: int, speed_mps: float) -> RawItem:
    return RawItem(
        seq,
        MAV_FRAME_MISSION,
        MAV_CMD_DO_CHANGE_SPEED,
        0,
        1,
        SPEED_TYPE_GROUND,
        speed_mps,
        -1.0,
        0.0,
        0,
        0,
        math.nan,
        MISSION_TYPE_MISSION,
    )


def encode_mission(items: Sequence[MissionItem]) -> list[RawItem]:
    out: list[RawItem] = []
    speed: float | None = None
    for item in items:
        if out and item.speed_mps != speed:
            out.append(_speed_item(len(out), item.speed_mps))
        out.append(
            RawItem(
                seq=len(out),
                frame=item.frame,
                command=item.command,
                current=1 if not out else 0,
                autocontinue=1,
                param1=item.param1,
                param2=item.param2,
                param3=item.param3,
                param4=item.param4,
                x=round(item.lat * 1e7),
                y=round(item.lon * 1e7),
                z=item.alt_rel_m,
                mission_type=MISSION_TYPE_MISSION,
            )
        )
        if len(out) == 1:
            speed = None  # set the cruise speed right after the takeoff
        if out[-1].command != MAV_CMD_DO_CHANGE_SPEED and len(out) > 1:
            speed = item.speed_mps
    return out


def encode_geofence(fence: Geofence) -> list[RawItem]:
    return [
        RawItem(
            seq=i,
            frame=MAV_FRAME_GLOBAL_INT,
            command=f.command,
            current=1 if i == 0 else 0,
            autocontinue=0,
            param1=f.param1,
            param2=0.0,
            param3=0.0,
            param4=0.0,
            x=round(f.lat * 1e7),
            y=round(f.lon * 1e7),
            z=0.0,
            mission_type=MISSION_TYPE_FENCE,
        )
        for i, f in enumerate(fence.items())
    ]
