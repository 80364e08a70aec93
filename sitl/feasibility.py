"""PX4's mission feasibility check: whether an uploaded mission may be flown.

PX4 main 02e73e3, ``src/modules/navigator/mission_feasibility_checker.cpp``
(``MissionFeasibilityChecker::checkMissionFeasible``, ``checkMissionAgainstGeofence``) and
``src/modules/navigator/MissionFeasibility/FeasibilityChecker.cpp``, multicopter branch,
in PX4's order:

* no items → invalid, no text;
* per item, ``checkMissionItemValidity``: a command PX4's mission cannot fly →
  "Mission rejected: item N: unsupported cmd: C"; a LAND first while landed →
  "Mission rejected: starts with landing" (both stop the item loop);
* ``checkTakeoff``: a TAKEOFF not above home → "Mission rejected: Takeoff altitude below
  home altitude!"; a TAKEOFF after an item with a position → "Mission rejected: takeoff
  not first waypoint item";
* ``checkTakeoffLandAvailable`` per ``MIS_TKO_LAND_REQ`` (default 0: nothing required);
* ``checkHorizontalDistanceToFirstWaypoint`` (``MIS_DIST_1WP``): a warning only, PX4
  ignores its result;
* ``checkMissionAgainstGeofence``: every item with a position must pass the fence
  (:meth:`sitl.geofence.Geofence.allows`), else "Geofence violation for waypoint N"
  (1-based). This ignores ``GF_ACTION``.

Texts are CRITICAL and end in a TAB, as PX4's ``mavlink_log_critical`` strings do.

One leniency, kept consistent with how :mod:`sitl.mission_flight` flies them: an item whose
latitude and longitude are both 0 means "where the vehicle is" here, so its position is
not checked against the fence or ``MIS_DIST_1WP`` (PX4 would check the point 0°N 0°E).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sitl.geofence import Geofence
from sitl.mission_item import MissionItem

SEV_CRITICAL = 2

CMD_WAYPOINT = 16
CMD_LAND = 21
CMD_TAKEOFF = 22
CMD_VTOL_TAKEOFF = 84
CMD_VTOL_LAND = 85
CMD_DO_VTOL_TRANSITION = 3000

# MissionBlock::item_contains_position
POSITION_COMMANDS = frozenset({16, 17, 19, 21, 22, 31, 84, 85})
# FeasibilityChecker::checkMissionItemValidity: what PX4's mission can execute
SUPPORTED_COMMANDS = frozenset(
    {
        0,  # IDLE
        16,  # WAYPOINT
        17,  # LOITER_UNLIM
        19,  # LOITER_TIME
        20,  # RETURN_TO_LAUNCH
        21,  # LAND
        22,  # TAKEOFF
        31,  # LOITER_TO_ALT
        84,  # VTOL_TAKEOFF
        85,  # VTOL_LAND
        93,  # DELAY
        4501,  # CONDITION_GATE
        42600,  # DO_WINCH
        211,  # DO_GRIPPER
        212,  # DO_AUTOTUNE_ENABLE
        177,  # DO_JUMP
        178,  # DO_CHANGE_SPEED
        179,  # DO_SET_HOME
        189,  # DO_LAND_START
        2003,  # DO_TRIGGER_CONTROL
        203,  # DO_DIGICAM_CONTROL
        400,  # COMPONENT_ARM_DISARM
        2000,  # IMAGE_START_CAPTURE
        2001,  # IMAGE_STOP_CAPTURE
        2500,  # VIDEO_START_CAPTURE
        2501,  # VIDEO_STOP_CAPTURE
        200,  # DO_CONTROL_VIDEO
        204,  # DO_MOUNT_CONFIGURE
        205,  # DO_MOUNT_CONTROL
        1000,  # DO_GIMBAL_MANAGER_PITCHYAW
        1001,  # DO_GIMBAL_MANAGER_CONFIGURE
        187,  # DO_SET_ACTUATOR
        201,  # DO_SET_ROI
        195,  # DO_SET_ROI_LOCATION
        196,  # DO_SET_ROI_WPNEXT_OFFSET
        197,  # DO_SET_ROI_NONE
        206,  # DO_SET_CAM_TRIGG_DIST
        260,  # OBLIQUE_SURVEY
        214,  # DO_SET_CAM_TRIGG_INTERVAL
        530,  # SET_CAMERA_MODE
        534,  # SET_CAMERA_SOURCE
        531,  # SET_CAMERA_ZOOM
        532,  # SET_CAMERA_FOCUS
        3000,  # DO_VTOL_TRANSITION
    }
)
# FeasibilityChecker::checkTakeoff: items that do not count as "an item with a position"
# before which a TAKEOFF must come
_NOT_POSITIONED = frozenset(
    {
        0,
        93,
        177,
        178,
        179,
        189,
        2003,
        203,
        2000,
        2001,
        2500,
        2501,
        200,
        204,
        205,
        1000,
        1001,
        201,
        195,
        196,
        197,
        206,
        260,
        214,
        530,
        534,
        531,
        532,
        3000,
    }
)


@dataclass(frozen=True, slots=True)
class Finding:
    """A STATUSTEXT the check sends (MAV_SEVERITY, text as PX4 sends it)."""

    severity: int
    text: str


@dataclass(frozen=True, slots=True)
class Feasibility:
    valid: bool
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class FeasibilityInput:
    """What the check reads besides the items: home, the loaded fence, parameters."""

    home_alt_amsl_m: float
    home_ne: tuple[float, float]
    ground_alt_amsl_m: float  # the local frame's ground (terrain-frame items)
    landed: bool
    fence: Geofence
    to_ne: Callable[[float, float], tuple[float, float]]
    takeoff_land_req: int = 0  # MIS_TKO_LAND_REQ
    dist_1wp_m: float = 10000.0  # MIS_DIST_1WP
    max_hor_dist_m: float = 0.0  # GF_MAX_HOR_DIST
    max_ver_dist_m: float = 0.0  # GF_MAX_VER_DIST


def _alt_above_home_m(item: MissionItem, inp: FeasibilityInput) -> float:
    up = item.alt_up_m(ground_alt_amsl_m=inp.ground_alt_amsl_m, home_alt_amsl_m=inp.home_alt_amsl_m)
    if up is None:
        return math.nan
    return inp.ground_alt_amsl_m + up - inp.home_alt_amsl_m


def check_mission(items: Sequence[MissionItem], inp: FeasibilityInput) -> Feasibility:
    """PX4's ``checkMissionFeasible`` for a multicopter with a valid home position."""
    if not items:
        return Feasibility(False)
    findings: list[Finding] = []

    def reject(text: str) -> None:
        findings.append(Finding(SEV_CRITICAL, text + "\t"))

    failed = False
    takeoff_failed = False
    vtol_failed = False
    found_positioned = False
    has_takeoff = False
    landing_valid = False
    first_wp_checked = False
    for index, item in enumerate(items):
        cmd = item.command
        # checkMissionItemValidity: a failure stops the item loop
        if cmd not in SUPPORTED_COMMANDS:
            reject(f"Mission rejected: item {index + 1}: unsupported cmd: {cmd}")
            failed = True
            break
        if index == 0 and cmd == CMD_LAND and inp.landed:
            reject("Mission rejected: starts with landing")
            failed = True
            break
        # doCommonChecks
        positioned = cmd in POSITION_COMMANDS and item.has_position
        if not first_wp_checked and inp.dist_1wp_m > 0 and positioned:
            first_wp_checked = True
            north, east = inp.to_ne(item.lat_deg, item.lon_deg)
            dist = math.hypot(north - inp.home_ne[0], east - inp.home_ne[1])
            if dist >= inp.dist_1wp_m:  # a warning: PX4 ignores the result
                reject(f"First waypoint far away from home: {int(dist)}m. Correct mission loaded?")
        if not takeoff_failed and cmd in (CMD_TAKEOFF, CMD_VTOL_TAKEOFF):
            if _alt_above_home_m(item, inp) < 1e-6:  # NaN passes, as in PX4
                reject("Mission rejected: Takeoff altitude below home altitude!")
                takeoff_failed = True
            else:
                has_takeoff = True
                if found_positioned:
                    reject("Mission rejected: takeoff not first waypoint item")
                    takeoff_failed = True
        if not found_positioned:
            found_positioned = cmd not in _NOT_POSITIONED
        if not vtol_failed and cmd in (CMD_VTOL_TAKEOFF, CMD_VTOL_LAND, CMD_DO_VTOL_TRANSITION):
            reject("Mission rejected: Mission contains VTOL items but vehicle is not a VTOL")
            vtol_failed = True
        landing_valid |= cmd == CMD_LAND  # doMulticopterChecks
        if index == len(items) - 1 and not _takeoff_land_available(
            inp, has_takeoff, landing_valid, reject
        ):
            failed = True
    failed |= takeoff_failed or vtol_failed
    if not failed:
        failed = not _inside_fence(items, inp, reject)
    return Feasibility(not failed, tuple(findings))


def _takeoff_land_available(
    inp: FeasibilityInput,
    has_takeoff: bool,
    landing_valid: bool,
    reject: Callable[[str], None],
) -> bool:
    """FeasibilityChecker::checkTakeoffLandAvailable (MIS_TKO_LAND_REQ)."""
    req = inp.takeoff_land_req

    def both_or_neither() -> bool:
        if has_takeoff == landing_valid:
            return True
        if has_takeoff:
            reject("Mission rejected: Add Landing item or remove Takeoff.")
        else:
            reject("Mission rejected: Add Takeoff item or remove Landing.")
        return False

    if req == 1 and not has_takeoff:
        reject("Mission rejected: Takeoff waypoint required.")
        return False
    if req == 2 and not landing_valid:
        reject("Mission rejected: Landing waypoint/pattern required.")
        return False
    if req == 3 and not (has_takeoff and landing_valid):
        reject("Mission rejected: Takeoff or Landing item missing.")
        return False
    if req == 4 or (req == 5 and inp.landed):
        return both_or_neither()
    if req == 5 and not landing_valid:
        reject("Mission rejected: Landing waypoint/pattern required.")
        return False
    return True


def _inside_fence(
    items: Sequence[MissionItem], inp: FeasibilityInput, reject: Callable[[str], None]
) -> bool:
    """MissionFeasibilityChecker::checkMissionAgainstGeofence."""
    for index, item in enumerate(items):
        if item.command not in POSITION_COMMANDS or not item.has_position:
            continue
        north, east = inp.to_ne(item.lat_deg, item.lon_deg)
        if not inp.fence.allows(
            north,
            east,
            _alt_above_home_m(item, inp),
            home_ne=inp.home_ne,
            max_hor_dist_m=inp.max_hor_dist_m,
            max_ver_dist_m=inp.max_ver_dist_m,
        ):
            reject(f"Geofence violation for waypoint {index + 1}")
            return False
    return True
