"""What the commander's command handlers share: MAV_RESULT, the command ids, a command's
parameters, and the commander as the handlers see it.

:class:`CommandContext` is the commander (arming, mode changes, failsafes) with its
vehicle's state, its navigator (:class:`NavigatorControl`) and what it sends through its
vehicle (:class:`CommandOutbox`). The handlers are in :mod:`sitl.flight_commands` and
:mod:`sitl.system_commands`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

from sitl.failsafe import Failsafes
from sitl.link import Link
from sitl.modes import NavState
from sitl.orbit import Orbit
from sitl.state import VehicleState
from sitl.streams import StreamSchedule

INT32_MAX = 0x7FFFFFFF
MAV_FRAME_GLOBAL_INT = 5
FORCE_MAGIC = 21196
MAV_COMP_ID_MISSIONPLANNER = 190


class Result(IntEnum):
    """MAV_RESULT."""

    ACCEPTED = 0
    TEMPORARILY_REJECTED = 1
    DENIED = 2
    UNSUPPORTED = 3
    FAILED = 4
    IN_PROGRESS = 5
    UNSUPPORTED_MAV_FRAME = 9


class Cmd(IntEnum):
    NAV_RETURN_TO_LAUNCH = 20
    NAV_LAND = 21
    NAV_TAKEOFF = 22
    DO_ORBIT = 34
    DO_SET_MODE = 176
    DO_CHANGE_SPEED = 178
    DO_SET_HOME = 179
    DO_FLIGHTTERMINATION = 185
    DO_CHANGE_ALTITUDE = 186
    DO_REPOSITION = 192
    DO_PAUSE_CONTINUE = 193
    DO_SET_MISSION_CURRENT = 224
    PREFLIGHT_REBOOT_SHUTDOWN = 246
    MISSION_START = 300
    COMPONENT_ARM_DISARM = 400
    INJECT_FAILURE = 420
    GET_MESSAGE_INTERVAL = 510
    SET_MESSAGE_INTERVAL = 511
    REQUEST_MESSAGE = 512
    REQUEST_AUTOPILOT_CAPABILITIES = 520


@dataclass(frozen=True, slots=True)
class CommandParams:
    command: int
    p1: float
    p2: float
    p3: float
    p4: float
    p5: float  # COMMAND_LONG param5, or COMMAND_INT x / 1e7 (NaN if INT32_MAX)
    p6: float
    p7: float
    frame: int | None  # COMMAND_INT frame; None for COMMAND_LONG

    @classmethod
    def from_message(cls, msg: Any, is_int: bool) -> CommandParams:
        if is_int:
            x = math.nan if msg.x == INT32_MAX else msg.x / 1e7
            y = math.nan if msg.y == INT32_MAX else msg.y / 1e7
            return cls(
                msg.command, msg.param1, msg.param2, msg.param3, msg.param4, x, y, msg.z, msg.frame
            )
        p5, p6 = msg.param5, msg.param6
        # PX4 treats |lat/lon| >= 1000 in COMMAND_LONG as 1e7-scaled
        if math.isfinite(p5) and abs(p5) >= 1000:
            p5 = p5 / 1e7
        if math.isfinite(p6) and abs(p6) >= 1000:
            p6 = p6 / 1e7
        return cls(
            msg.command, msg.param1, msg.param2, msg.param3, msg.param4, p5, p6, msg.param7, None
        )


def finite(value: float) -> bool:
    return math.isfinite(value)


def is_msg_id(value: float) -> bool:
    return math.isfinite(value) and 0 <= value <= 0xFFFFFF and value == int(value)


class CommandOutbox(Protocol):
    """What the commander sends through its vehicle."""

    @property
    def links(self) -> tuple[Link, ...]: ...

    @property
    def streams(self) -> Mapping[Link, StreamSchedule]: ...

    def statustext(self, severity: int, text: str) -> None: ...

    def ack(self, link: Link, msg: Any, command: int, result: int) -> None:
        """COMMAND_ACK to the sender of ``msg``."""

    def send_home(self) -> None:
        """HOME_POSITION on every link."""

    def encode(self, msg_id: int, link: Link) -> Any | None:
        """Telemetry message ``msg_id`` for ``link`` (None: none such, or nothing now)."""


class NavigatorControl(Protocol):
    """The navigator as the commander drives it."""

    takeoff_target_up_m: float

    def enter(self, new: NavState, old: NavState) -> None: ...

    def update_real(self, now_real_s: float) -> None: ...

    def on_armed(self) -> None: ...

    def on_disarmed(self) -> None: ...

    def on_landed(self) -> None: ...

    def is_taking_off(self) -> bool: ...

    def is_landing(self) -> bool: ...

    def mission_runnable(self) -> bool: ...

    def mission_finished(self) -> bool: ...

    def seq_total(self) -> int: ...

    def set_current(self, seq: int) -> bool: ...

    def set_speed(self, speed_mps: float | None) -> None: ...

    def geofence_allows(self, north: float, east: float, up: float) -> bool: ...

    def brake(self) -> None: ...

    def reposition(
        self, north: float, east: float, up: float, speed: float | None, heading: float | None
    ) -> None: ...

    def change_altitude(self, up: float) -> None: ...

    def set_orbit(self, orbit: Orbit) -> None: ...


class CommandContext(Protocol):
    """The commander as its command handlers see it."""

    s: VehicleState
    out: CommandOutbox
    nav: NavigatorControl
    failsafes: Failsafes

    def arm(self, *, forced: bool, reason: str = ...) -> Result: ...

    def disarm(self, *, forced: bool, why: str = ...) -> Result: ...

    def request_mode(
        self, state: NavState, *, user: bool = True, announce_reject: bool = True
    ) -> Result: ...

    def set_nav_state(self, new: NavState) -> None: ...

    def print_reject_mode(self, state: NavState) -> None: ...


# a command handler: the ACK's result, or None when it sent the ACK itself
Handler = Callable[[CommandContext, Link, Any, CommandParams], "Result | None"]
