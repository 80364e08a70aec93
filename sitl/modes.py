"""PX4 navigation states and their HEARTBEAT encoding (reference §1).

``custom_mode = main_mode << 16 | sub_mode << 24``; ``base_mode`` always has
CUSTOM_MODE_ENABLED, plus the flags PX4's ``control_mode.cpp`` sets per state,
plus SAFETY_ARMED when armed.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class NavState(StrEnum):
    MANUAL = "manual"
    ALTCTL = "altctl"
    POSCTL = "posctl"
    ORBIT = "orbit"
    READY = "ready"
    TAKEOFF = "takeoff"
    HOLD = "hold"
    MISSION = "mission"
    RTL = "rtl"
    LAND = "land"
    DESCEND = "descend"
    FOLLOW_TARGET = "follow_target"
    PRECLAND = "precland"
    ACRO = "acro"
    OFFBOARD = "offboard"
    STABILIZED = "stabilized"
    TERMINATION = "termination"


class LandedState(StrEnum):
    UNDEFINED = "undefined"
    ON_GROUND = "on_ground"
    IN_AIR = "in_air"
    TAKEOFF = "takeoff"
    LANDING = "landing"


MAV_LANDED_STATE: dict[LandedState, int] = {
    LandedState.UNDEFINED: 0,
    LandedState.ON_GROUND: 1,
    LandedState.IN_AIR: 2,
    LandedState.TAKEOFF: 3,
    LandedState.LANDING: 4,
}


class MainMode(IntEnum):
    MANUAL = 1
    ALTCTL = 2
    POSCTL = 3
    AUTO = 4
    ACRO = 5
    OFFBOARD = 6
    STABILIZED = 7


# nav state -> (main, sub)
PX4_MODE: dict[NavState, tuple[int, int]] = {
    NavState.MANUAL: (1, 0),
    NavState.TERMINATION: (1, 0),
    NavState.ALTCTL: (2, 0),
    NavState.POSCTL: (3, 0),
    NavState.ORBIT: (3, 1),
    NavState.READY: (4, 1),
    NavState.TAKEOFF: (4, 2),
    NavState.HOLD: (4, 3),
    NavState.MISSION: (4, 4),
    NavState.RTL: (4, 5),
    NavState.LAND: (4, 6),
    NavState.DESCEND: (4, 6),
    NavState.FOLLOW_TARGET: (4, 8),
    NavState.PRECLAND: (4, 9),
    NavState.ACRO: (5, 0),
    NavState.OFFBOARD: (6, 0),
    NavState.STABILIZED: (7, 0),
}

# what DO_SET_MODE (main, sub) asks for; sub is ignored for non-AUTO main modes except POSCTL/1
_REQUESTED: dict[tuple[int, int], NavState] = {
    (1, 0): NavState.MANUAL,
    (2, 0): NavState.ALTCTL,
    (3, 0): NavState.POSCTL,
    (3, 1): NavState.ORBIT,
    (4, 1): NavState.READY,
    (4, 2): NavState.TAKEOFF,
    (4, 3): NavState.HOLD,
    (4, 4): NavState.MISSION,
    (4, 5): NavState.RTL,
    (4, 6): NavState.LAND,
    (4, 8): NavState.FOLLOW_TARGET,
    (4, 9): NavState.PRECLAND,
    (5, 0): NavState.ACRO,
    (6, 0): NavState.OFFBOARD,
    (7, 0): NavState.STABILIZED,
}

MAV_MODE_FLAG_CUSTOM_MODE_ENABLED = 1
MAV_MODE_FLAG_AUTO_ENABLED = 4
MAV_MODE_FLAG_GUIDED_ENABLED = 8
MAV_MODE_FLAG_STABILIZE_ENABLED = 16
MAV_MODE_FLAG_MANUAL_INPUT_ENABLED = 64
MAV_MODE_FLAG_SAFETY_ARMED = 128

_MANUAL_STATES = {NavState.MANUAL, NavState.ALTCTL, NavState.POSCTL, NavState.STABILIZED}
_AUTO_STATES = {
    NavState.READY,
    NavState.TAKEOFF,
    NavState.HOLD,
    NavState.MISSION,
    NavState.RTL,
    NavState.LAND,
    NavState.DESCEND,
    NavState.PRECLAND,
}


def custom_mode(state: NavState) -> int:
    main, sub = PX4_MODE[state]
    return (main << 16) | (sub << 24)


def base_mode(state: NavState, armed: bool) -> int:
    mode = MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
    if state in _MANUAL_STATES:
        mode |= MAV_MODE_FLAG_MANUAL_INPUT_ENABLED | MAV_MODE_FLAG_STABILIZE_ENABLED
    elif state in _AUTO_STATES:
        mode |= MAV_MODE_FLAG_AUTO_ENABLED | MAV_MODE_FLAG_GUIDED_ENABLED
        mode |= MAV_MODE_FLAG_STABILIZE_ENABLED
    elif state is NavState.ACRO:
        mode |= MAV_MODE_FLAG_MANUAL_INPUT_ENABLED
    elif state in (NavState.ORBIT, NavState.FOLLOW_TARGET, NavState.OFFBOARD):
        mode |= MAV_MODE_FLAG_STABILIZE_ENABLED
    if armed:
        mode |= MAV_MODE_FLAG_SAFETY_ARMED
    return mode


def requested_state(main_mode: int, sub_mode: int) -> NavState | None:
    """The nav state a DO_SET_MODE (main, sub) asks for, or None if PX4 has no such mode."""
    if main_mode != MainMode.AUTO and (main_mode, sub_mode) not in _REQUESTED:
        sub_mode = 0
    return _REQUESTED.get((main_mode, sub_mode))


# PX4 src/lib/modes/ui.hpp nav_state_names, as Commander::printRejectMode prints them
MODE_NAME: dict[NavState, str] = {
    NavState.MANUAL: "Manual",
    NavState.ALTCTL: "Altitude",
    NavState.POSCTL: "Position",
    NavState.MISSION: "Mission",
    NavState.HOLD: "Hold",
    NavState.RTL: "Return",
    NavState.ACRO: "Acro",
    NavState.DESCEND: "Descend",
    NavState.TERMINATION: "Termination",
    NavState.OFFBOARD: "Offboard",
    NavState.STABILIZED: "Stabilized",
    NavState.TAKEOFF: "Takeoff",
    NavState.LAND: "Land",
    NavState.FOLLOW_TARGET: "Follow Target",
    NavState.PRECLAND: "Precision Landing",
    NavState.ORBIT: "Orbit",
    NavState.READY: "Ready",
}
