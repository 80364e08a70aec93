"""PX4 Commander, simulated: commands → COMMAND_ACK, arming, mode changes, landing.

Every COMMAND_LONG/COMMAND_INT addressed to the vehicle gets exactly one
COMMAND_ACK targeted at the requester. Unset parameters arrive as NaN (MAVSDK's
PX4 convention) and are treated as unset. COMMAND_INT is refused with
``MAV_RESULT_COMMAND_UNSUPPORTED_MAV_FRAME`` (9) unless its frame is
``MAV_FRAME_GLOBAL_INT`` (5), as PX4 main does since PR #26408. Landing detection and
auto-disarm (``COM_DISARM_LAND``, ``COM_DISARM_PRFLT``) live here too; failsafes are in
:mod:`sitl.failsafe`.

Mode changes follow PX4's ``UserModeIntention::change`` (``commander/UserModeIntention.cpp``):
disarmed, any supported mode may be selected; armed, Mission only when the navigator's
last mission result is valid (``HealthAndArmingChecks`` ``missionCheck.cpp`` /
``modeCheck.cpp``). A refused switch is ACKed TEMPORARILY_REJECTED with
"Switching to Mission is currently not available" (``Commander::printRejectMode``, at most
once a second; for DO_SET_MODE/SET_MODE only when the sender is component 190). Arming in
Mission without a valid mission fails like PX4's ``Commander::arm``: "Arming denied:
Resolve system health failures first". STATUSTEXTs carry PX4's trailing TAB.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

from sitl.battery import WarningLevel
from sitl.failsafe import Failsafes
from sitl.geofence import Geofence
from sitl.link import Link
from sitl.modes import MODE_NAME, LandedState, NavState, requested_state
from sitl.streams import AUTOPILOT_VERSION, ENCODERS

if TYPE_CHECKING:
    from sitl.vehicle import Vehicle

logger = logging.getLogger(__name__)

INT32_MAX = 0x7FFFFFFF
MAV_FRAME_GLOBAL_INT = 5
FORCE_MAGIC = 21196
MAV_COMP_ID_MISSIONPLANNER = 190
REJECT_TEXT_INTERVAL_S = 1.0  # Commander::printRejectMode, vehicle time
LAND_DETECT_S = 1.0  # MulticopterLandDetector: land_detection_time (3 x 1/3 s), vehicle time
SEV_CRITICAL, SEV_INFO = 2, 6
_MANUAL_MODES = (
    NavState.MANUAL,
    NavState.ALTCTL,
    NavState.POSCTL,
    NavState.STABILIZED,
    NavState.ACRO,
)
UNANSWERABLE_MESSAGES = {395, 397, 435}  # COMPONENT_INFORMATION/_METADATA, AVAILABLE_MODES


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


def _finite(value: float) -> bool:
    return math.isfinite(value)


def _is_msg_id(value: float) -> bool:
    return math.isfinite(value) and 0 <= value <= 0xFFFFFF and value == int(value)


class Commander:
    def __init__(self, vehicle: Vehicle) -> None:
        self.v = vehicle
        self.failsafes = Failsafes(vehicle)
        self._armed_at_s = 0.0
        self._took_off = False  # Commander::_have_taken_off_since_arming
        self._landed_at_s: float | None = None
        self._last_reject_text_s = -math.inf
        self._touchdown_s: float | None = None

    # --- status ----------------------------------------------------------------------------
    @property
    def failsafe(self) -> bool:
        return self.failsafes.active

    @property
    def geofence(self) -> Geofence:
        return self.failsafes.geofence

    def set_geofence(self, fence: Geofence) -> None:
        self.failsafes.set_geofence(fence)

    def battery_warning(self) -> WarningLevel:
        return self.failsafes.battery_warning()

    def gcs_heartbeat(self, now_real_s: float) -> None:
        self.failsafes.gcs_heartbeat(now_real_s)

    def update_real(self, now_real_s: float) -> None:
        self.failsafes.update_real(now_real_s)
        self.v.navigator.update_real(now_real_s)

    def arming_problem(self) -> str | None:
        """Why arming would be refused now, or None (the PREARM bit mirrors this)."""
        v = self.v
        if v.gps_failed:
            return "Arming denied: no valid global position"
        if v.motor_failed:
            return "Arming denied: motor failure"
        if self.failsafes.fence_breached:
            return "Arming denied: Geofence violation"
        if self.battery_warning() >= WarningLevel.CRITICAL:
            return "Arming denied: battery level too low"
        if v.nav_state in (
            NavState.MANUAL,
            NavState.ALTCTL,
            NavState.POSCTL,
            NavState.STABILIZED,
            NavState.ACRO,
        ):
            return "Arming denied: no manual control input"
        if v.nav_state is NavState.TERMINATION:
            return "Arming denied: flight termination active"
        return None

    def prearm_ok(self) -> bool:
        return self.arming_problem() is None

    # --- state changes ---------------------------------------------------------------------
    def set_nav_state(self, new: NavState) -> None:
        old = self.v.nav_state
        if old is NavState.TERMINATION and new is not NavState.TERMINATION:
            raise ValueError(f"{self.v.name}: cannot leave {old} for {new}")
        if old is not new:
            logger.info("%s: nav state %s -> %s", self.v.name, old, new)
        self.v.nav_state = new
        self.v.navigator.enter(new, old)

    def set_landed_state(self, new: LandedState) -> None:
        old = self.v.landed_state
        if old is new:
            return
        logger.info("%s: landed state %s -> %s", self.v.name, old, new)
        self.v.landed_state = new

    def arm(self, *, forced: bool, reason: str = "external command") -> Result:
        v = self.v
        if v.armed:
            return Result.ACCEPTED
        problem = None if forced else self.arming_problem()
        if (
            problem is None
            and not forced
            and v.nav_state in (NavState.RTL, NavState.LAND, NavState.DESCEND, NavState.ORBIT)
        ):
            problem = f"Arming denied: mode {v.nav_state} prevents arming"
        if (
            problem is None
            and not forced
            and not v.navigator.mission_runnable()
            and (v.nav_state is NavState.MISSION or v.params.get_int("COM_ARM_MIS_REQ") == 1)
        ):
            # HealthAndArmingChecks: "No valid mission available" fails canArm for Mission
            problem = "Arming denied: Resolve system health failures first\t"
        if problem is not None:
            v.statustext(SEV_CRITICAL, problem)
            return Result.TEMPORARILY_REJECTED
        v.armed = True
        self._armed_at_s = v.time_s
        self._took_off = v.in_air()
        self._landed_at_s = None
        self.failsafes.on_armed()
        lat, lon = v.lat_lon()
        from sitl.vehicle import Home

        v.home = Home(lat, lon, v.alt_amsl_m())
        v.send_home()
        v.statustext(SEV_INFO, f"Armed by {reason}\t")
        v.navigator.on_armed()
        return Result.ACCEPTED

    def disarm(self, *, forced: bool, why: str = "Disarmed by external command\t") -> Result:
        v = self.v
        if not v.armed:
            return Result.ACCEPTED
        if not forced and v.in_air() and v.landed_state is not LandedState.ON_GROUND:
            v.statustext(SEV_CRITICAL, "Disarming denied: not landed\t")
            return Result.TEMPORARILY_REJECTED
        v.armed = False
        v.statustext(6, why)
        self.failsafes.clear()
        if v.nav_state in (
            NavState.LAND,
            NavState.RTL,
            NavState.TAKEOFF,
            NavState.DESCEND,
            NavState.ORBIT,
        ):
            self.set_nav_state(NavState.HOLD)
        v.navigator.on_disarmed()
        return Result.ACCEPTED

    def _print_reject_mode(self, state: NavState) -> None:
        """Commander::printRejectMode: at most once per second."""
        v = self.v
        if v.time_s - self._last_reject_text_s > REJECT_TEXT_INTERVAL_S:
            self._last_reject_text_s = v.time_s
            name = MODE_NAME.get(state, str(state))
            v.statustext(SEV_CRITICAL, f"Switching to {name} is currently not available\t")

    def can_run(self, state: NavState) -> bool:
        """HealthAndArmingChecks canRun for an armed vehicle (modes this simulator flies)."""
        if state in _MANUAL_MODES:
            return False  # no RC: manual control input is missing
        if state is NavState.MISSION:
            return self.v.navigator.mission_runnable()
        return True

    def mission_cannot_run(self) -> None:
        """Armed in Mission and the mission is no longer valid: the failsafe framework's
        mode fallback (failsafe/framework.cpp modeCanRun) takes the vehicle to Hold."""
        logger.info("%s: mission not valid any more, falling back to Hold", self.v.name)
        self.set_nav_state(NavState.HOLD)

    def request_mode(
        self, state: NavState, *, user: bool = True, announce_reject: bool = True
    ) -> Result:
        """A mode change asked for by a GCS (DO_SET_MODE, takeoff, land, RTL commands).
        ``announce_reject``: send PX4's "Switching to ... is currently not available"."""
        v = self.v
        if v.nav_state is NavState.TERMINATION:
            return Result.DENIED
        if v.armed and not self.can_run(state):
            if announce_reject:
                self._print_reject_mode(state)
            return Result.TEMPORARILY_REJECTED
        if state in (
            NavState.OFFBOARD,
            NavState.FOLLOW_TARGET,
            NavState.PRECLAND,
            NavState.READY,
            NavState.ORBIT,
            NavState.DESCEND,
            NavState.TERMINATION,
        ):
            return Result.TEMPORARILY_REJECTED
        if user and state is not NavState.LAND and self.failsafes.holds_control():
            return Result.TEMPORARILY_REJECTED
        if user:
            self.failsafes.clear()
        self.set_nav_state(state)
        if state is NavState.MISSION and v.armed and not v.navigator.mission_runnable():
            self.mission_cannot_run()  # the forced check on entering Mission failed
        return Result.ACCEPTED

    # --- commands --------------------------------------------------------------------------
    def handle_command(self, link: Link, msg: Any, *, is_int: bool) -> None:
        try:
            p = CommandParams.from_message(msg, is_int)
        except (AttributeError, TypeError, ValueError):
            return
        if is_int and p.frame != MAV_FRAME_GLOBAL_INT:
            logger.info(
                "%s: frame invalid for command %d (frame %d, seq %d)",
                self.v.name,
                p.command,
                p.frame,
                msg.get_seq(),
            )
            self.v.ack(link, msg, p.command, Result.UNSUPPORTED_MAV_FRAME)
            return
        handler = self._HANDLERS.get(p.command)
        if handler is None:
            result: Result | None = Result.UNSUPPORTED
        else:
            try:
                result = handler(self, link, msg, p)
            except (ValueError, ArithmeticError) as exc:  # e.g. inf/1e30 where an int is due
                logger.info("%s: command %d refused: %s", self.v.name, p.command, exc)
                result = Result.DENIED
        if result is not None:
            self.v.ack(link, msg, p.command, result)
        logger.debug(
            "%s: %s %d frame %s from %d/%d seq %d -> %s",
            self.v.name,
            msg.get_type(),
            p.command,
            p.frame,
            msg.get_srcSystem(),
            msg.get_srcComponent(),
            msg.get_seq(),
            result,
        )

    def handle_set_mode_message(self, msg: Any) -> None:
        """SET_MODE: PX4's receiver turns it into DO_SET_MODE from the sender's component."""
        if msg.base_mode & 1:
            state = requested_state((msg.custom_mode >> 16) & 0xFF, (msg.custom_mode >> 24) & 0xFF)
            if state is not None:
                self.request_mode(
                    state, announce_reject=msg.get_srcComponent() == MAV_COMP_ID_MISSIONPLANNER
                )

    def _cmd_arm(self, link: Link, msg: Any, p: CommandParams) -> Result:
        if not _finite(p.p1):
            return Result.DENIED
        forced = _finite(p.p2) and round(p.p2) == FORCE_MAGIC
        if round(p.p1) == 1 and abs(p.p1 - 1) < 1e-3:
            return self.arm(forced=forced)
        if p.p1 == 0:
            return self.disarm(forced=forced)
        return Result.DENIED

    def _cmd_takeoff(self, link: Link, msg: Any, p: CommandParams) -> Result:
        v = self.v
        if v.nav_state is NavState.TERMINATION:
            return Result.DENIED
        if _finite(p.p7):
            target_up = p.p7 - v.ground_alt_amsl_m
        else:
            target_up = v.home_up_m() + v.params.get_float("MIS_TAKEOFF_ALT")
        if target_up < v.motion.up_m and v.in_air():
            target_up = v.motion.up_m
        v.navigator.takeoff_target_up_m = max(target_up, 0.5)
        return self.request_mode(NavState.TAKEOFF)

    def _cmd_land(self, link: Link, msg: Any, p: CommandParams) -> Result:
        return self.request_mode(NavState.LAND)

    def _cmd_rtl(self, link: Link, msg: Any, p: CommandParams) -> Result:
        return self.request_mode(NavState.RTL)

    def _cmd_set_mode(self, link: Link, msg: Any, p: CommandParams) -> Result:
        if not (_finite(p.p1) and _finite(p.p2)):
            return Result.DENIED
        base = int(p.p1)
        if base & 1:
            sub = int(p.p3) if _finite(p.p3) else 0
            state = requested_state(int(p.p2), sub)
        elif base & 4:
            state = NavState.MISSION
        elif base & 8:
            state = NavState.HOLD
        else:
            state = None
        if state is None:
            return Result.DENIED
        # printRejectMode only "if (cmd.from_external && cmd.source_component == 190)"
        return self.request_mode(
            state, announce_reject=msg.get_srcComponent() == MAV_COMP_ID_MISSIONPLANNER
        )

    def _target_up(self, alt_amsl_m: float) -> float:
        return alt_amsl_m - self.v.ground_alt_amsl_m

    def _cmd_reposition(self, link: Link, msg: Any, p: CommandParams) -> Result:
        v = self.v
        flags = int(p.p2) if _finite(p.p2) else 0
        if not (flags & 1) or flags & ~1:
            return Result.UNSUPPORTED
        # PX4: the commander only switches to Hold; the navigator takes the point only
        # while armed (armed on the ground, the vehicle lifts off towards it)
        result = self.request_mode(NavState.HOLD)
        if result is not Result.ACCEPTED or not v.armed:
            return result
        m = v.motion
        north, east = m.north_m, m.east_m
        if _finite(p.p5) and _finite(p.p6):
            north, east = v.frame.to_ne(p.p5, p.p6)
        up = self._target_up(p.p7) if _finite(p.p7) else m.up_m
        # navigator_main.cpp: the commander has ACKed; a target the fence does not allow
        # is not flown, and Hold's own entry (brake and hold) stands
        if not v.navigator.geofence_allows(north, east, up):
            v.statustext(SEV_CRITICAL, "Reposition is outside geofence\t")
            return Result.ACCEPTED
        speed = p.p1 if _finite(p.p1) and p.p1 > 0 else None
        heading = math.degrees(p.p4) % 360.0 if _finite(p.p4) else None
        v.navigator.reposition(north, east, max(up, 1.0), speed, heading)
        return Result.ACCEPTED

    def _cmd_change_altitude(self, link: Link, msg: Any, p: CommandParams) -> Result:
        """DO_CHANGE_ALTITUDE: Hold, then (armed) the same altitude at the current point,
        param1 AMSL (Commander.cpp switches mode; navigator_main.cpp flies it)."""
        v = self.v
        result = self.request_mode(NavState.HOLD)
        if result is not Result.ACCEPTED or not v.armed:
            return result
        m = v.motion
        up = self._target_up(p.p1) if _finite(p.p1) else m.up_m
        if not v.navigator.geofence_allows(m.north_m, m.east_m, up):
            v.statustext(SEV_CRITICAL, "Altitude change is outside geofence\t")
            return Result.ACCEPTED
        v.navigator.change_altitude(max(up, 1.0))
        return Result.ACCEPTED

    def _cmd_orbit(self, link: Link, msg: Any, p: CommandParams) -> Result:
        v = self.v
        if not v.armed or not v.in_air():
            return Result.TEMPORARILY_REJECTED
        radius = p.p1 if _finite(p.p1) else 10.0
        if abs(radius) < 1.0 or abs(radius) > v.params.get_float("MC_ORBIT_RAD_MAX"):
            return Result.DENIED
        speed = abs(p.p2) if _finite(p.p2) and p.p2 != 0 else 1.0
        yaw_behaviour = int(p.p3) if _finite(p.p3) else 0
        m = v.motion
        center = (m.north_m, m.east_m)
        if _finite(p.p5) and _finite(p.p6):
            center = v.frame.to_ne(p.p5, p.p6)
        up = self._target_up(p.p7) if _finite(p.p7) else m.up_m
        if self.failsafes.holds_control():
            return Result.TEMPORARILY_REJECTED
        self.failsafes.clear()
        v.navigator.set_orbit(
            center, abs(radius), 1 if radius > 0 else -1, speed, max(up, 1.0), yaw_behaviour
        )
        self.set_nav_state(NavState.ORBIT)
        return Result.ACCEPTED

    def _cmd_change_speed(self, link: Link, msg: Any, p: CommandParams) -> Result:
        if _finite(p.p2) and p.p2 > 0:
            self.v.navigator.set_speed(p.p2)
        else:
            self.v.navigator.set_speed(None)
        return Result.ACCEPTED

    def _cmd_set_home(self, link: Link, msg: Any, p: CommandParams) -> Result:
        from sitl.vehicle import Home

        v = self.v
        if _finite(p.p1) and round(p.p1) == 1:
            lat, lon = v.lat_lon()
            v.home = Home(lat, lon, v.alt_amsl_m())
        else:
            if not (_finite(p.p5) and _finite(p.p6) and _finite(p.p7)):
                return Result.DENIED
            if not (-90 <= p.p5 <= 90 and -180 <= p.p6 <= 180):
                return Result.DENIED
            v.home = Home(p.p5, p.p6, p.p7)
        v.send_home()
        return Result.ACCEPTED

    def _cmd_termination(self, link: Link, msg: Any, p: CommandParams) -> Result:
        v = self.v
        if not v.armed:
            return Result.DENIED
        if _finite(p.p1) and p.p1 > 0.5:
            self.failsafes.terminate()
            v.statustext(2, "Flight termination active")
        return Result.ACCEPTED

    def _cmd_pause_continue(self, link: Link, msg: Any, p: CommandParams) -> Result:
        """p1 0 = pause (Hold), 1 = continue the mission."""
        if not _finite(p.p1) or round(p.p1) not in (0, 1):
            return Result.DENIED
        return self.request_mode(NavState.HOLD if round(p.p1) == 0 else NavState.MISSION)

    def _cmd_mission_current(self, link: Link, msg: Any, p: CommandParams) -> Result:
        if not _finite(p.p1) or not self.v.navigator.set_current(int(p.p1)):
            return Result.DENIED
        return Result.ACCEPTED

    def _cmd_mission_start(self, link: Link, msg: Any, p: CommandParams) -> Result:
        """Commander.cpp VEHICLE_CMD_MISSION_START: switch to Mission and arm."""
        v = self.v
        if not v.navigator.mission_runnable():
            v.statustext(SEV_CRITICAL, "Mission start denied! No valid mission\t")
            return Result.DENIED
        if not (_finite(p.p1) and -1 <= p.p1 < v.navigator.seq_total()):
            return Result.DENIED
        result = self.request_mode(NavState.MISSION, announce_reject=False)
        if result is Result.ACCEPTED and v.nav_state is NavState.MISSION:
            result = self.arm(forced=False, reason="mission start")
        if result is not Result.ACCEPTED:
            self._print_reject_mode(NavState.MISSION)
            return Result.TEMPORARILY_REJECTED
        return Result.ACCEPTED

    def _cmd_reboot(self, link: Link, msg: Any, p: CommandParams) -> Result:
        v = self.v
        if v.armed:
            v.statustext(3, "Reboot denied: vehicle armed")
            return Result.DENIED
        if not _finite(p.p1) or round(p.p1) not in (0, 1, 2, 3):
            return Result.DENIED
        if round(p.p1) in (1, 2):
            v.statustext(6, "Reboot requested (simulated: state kept)")
        return Result.ACCEPTED

    def _cmd_request_message(self, link: Link, msg: Any, p: CommandParams) -> Result | None:
        if not _finite(p.p1):
            return Result.DENIED
        msg_id = int(p.p1)
        encoder = ENCODERS.get(msg_id)
        if msg_id in UNANSWERABLE_MESSAGES or encoder is None:
            return Result.DENIED
        out = encoder(self.v, link.mav)
        if out is None:
            return Result.DENIED
        self.v.ack(link, msg, p.command, Result.ACCEPTED)
        link.send(out)
        return None

    def _cmd_capabilities(self, link: Link, msg: Any, p: CommandParams) -> Result | None:
        self.v.ack(link, msg, p.command, Result.ACCEPTED)
        link.send(ENCODERS[AUTOPILOT_VERSION](self.v, link.mav))
        return None

    def _cmd_set_interval(self, link: Link, msg: Any, p: CommandParams) -> Result:
        if not (_finite(p.p1) and _finite(p.p2)):
            return Result.DENIED
        import time

        ok = self.v.streams[link].set_interval(int(p.p1), p.p2, time.monotonic())
        return Result.ACCEPTED if ok else Result.FAILED

    def _cmd_get_interval(self, link: Link, msg: Any, p: CommandParams) -> Result | None:
        if not _is_msg_id(p.p1):
            return Result.DENIED
        interval = self.v.streams[link].interval_s(int(p.p1))
        self.v.ack(link, msg, p.command, Result.ACCEPTED)
        link.send(
            link.mav.message_interval_encode(
                int(p.p1), -1 if interval is None else int(interval * 1e6)
            )
        )
        return None

    def _cmd_inject_failure(self, link: Link, msg: Any, p: CommandParams) -> Result | None:
        v = self.v
        if v.params.get_int("SYS_FAILURE_EN") != 1:
            return Result.DENIED
        if not (_finite(p.p1) and _finite(p.p2)):
            return Result.DENIED
        unit, kind = int(p.p1), int(p.p2)
        if not (0 <= unit <= 8 or 100 <= unit <= 105) or not 0 <= kind <= 7:
            return Result.UNSUPPORTED
        if unit == 4:  # GPS
            if kind in (0, 1):
                v.gps_failed = kind == 1
                v.statustext(6, f"Failure injection: GPS {'off' if kind else 'ok'}")
        elif unit == 100:  # battery
            if kind == 0:
                v.battery.override_soc = None
            elif kind == 1:
                v.battery.override_soc = 0.0
            elif kind == 4:
                crit = v.params.get_float("BAT_CRIT_THR")
                emerg = v.params.get_float("BAT_EMERGEN_THR")
                v.battery.override_soc = (crit + emerg) / 2
        elif unit == 101:  # motor
            if kind in (0, 1):
                v.motor_failed = kind == 1
        elif unit == 105 and kind in (0, 1):  # MAVLink signal
            v.ack(link, msg, p.command, Result.ACCEPTED)
            for each in v.links:
                each.rx_dropped = kind == 1
            return None
        return Result.ACCEPTED

    _HANDLERS: ClassVar[dict[int, Any]] = {
        Cmd.COMPONENT_ARM_DISARM: _cmd_arm,
        Cmd.NAV_TAKEOFF: _cmd_takeoff,
        Cmd.NAV_LAND: _cmd_land,
        Cmd.NAV_RETURN_TO_LAUNCH: _cmd_rtl,
        Cmd.DO_SET_MODE: _cmd_set_mode,
        Cmd.DO_REPOSITION: _cmd_reposition,
        Cmd.DO_CHANGE_ALTITUDE: _cmd_change_altitude,
        Cmd.DO_ORBIT: _cmd_orbit,
        Cmd.DO_PAUSE_CONTINUE: _cmd_pause_continue,
        Cmd.DO_CHANGE_SPEED: _cmd_change_speed,
        Cmd.DO_SET_HOME: _cmd_set_home,
        Cmd.DO_FLIGHTTERMINATION: _cmd_termination,
        Cmd.DO_SET_MISSION_CURRENT: _cmd_mission_current,
        Cmd.MISSION_START: _cmd_mission_start,
        Cmd.PREFLIGHT_REBOOT_SHUTDOWN: _cmd_reboot,
        Cmd.REQUEST_MESSAGE: _cmd_request_message,
        Cmd.REQUEST_AUTOPILOT_CAPABILITIES: _cmd_capabilities,
        Cmd.SET_MESSAGE_INTERVAL: _cmd_set_interval,
        Cmd.GET_MESSAGE_INTERVAL: _cmd_get_interval,
        Cmd.INJECT_FAILURE: _cmd_inject_failure,
    }

    # --- periodic checks -------------------------------------------------------------------
    def update_vehicle(self, dt_s: float) -> None:
        """Per physics step (vehicle time): landing detection, auto-disarm, failsafes."""
        self._update_landed_state()
        self._auto_disarm()
        self.failsafes.update_vehicle()

    def mission_in_progress(self) -> bool:
        """Commander::_mission_in_progress: in Mission and the mission has not finished."""
        v = self.v
        return v.nav_state is NavState.MISSION and not v.navigator.mission_finished()

    def _auto_disarm(self) -> None:
        """Commander::handleAutoDisarm (vehicle time, as PX4's hrt time under lockstep).

        After a takeoff: ``COM_DISARM_LAND`` s landed, unless a mission is in progress.
        Before any takeoff since arming: ``COM_SPOOLUP_TIME + COM_DISARM_PRFLT`` s after
        arming, in every mode ("Disarmed by auto preflight disarming")."""
        v = self.v
        if not v.armed:
            return
        land_s = v.params.get_float("COM_DISARM_LAND")
        preflight_s = v.params.get_float("COM_DISARM_PRFLT")
        if land_s > 0 and not self.mission_in_progress() and self._took_off:
            landed_at = self._landed_at_s if v.landed_state is LandedState.ON_GROUND else None
            if landed_at is not None and v.time_s - landed_at >= land_s:
                self.disarm(forced=False, why="Disarmed by landing\t")
        elif preflight_s > 0 and not self._took_off:
            limit = v.params.get_float("COM_SPOOLUP_TIME") + preflight_s
            if v.time_s - self._armed_at_s >= limit and v.landed_state is LandedState.ON_GROUND:
                self.disarm(forced=False, why="Disarmed by auto preflight disarming\t")

    def _update_landed_state(self) -> None:
        v = self.v
        m = v.motion
        state = v.landed_state
        d = m.dynamics
        band = d.hover_thrust - d.thr_min
        if state is LandedState.ON_GROUND:
            # MulticopterLandDetector: "landed" drops at once when the thrust leaves the
            # low-thrust band of ground contact (THR_MIN + 0.3 (hover - THR_MIN)), which the
            # takeoff ramp does before the vehicle lifts
            if v.armed and (m.thrust > d.thr_min + 0.3 * band or m.up_m > 0.2):
                self._touchdown_s = None
                self._took_off = True
                self._landed_at_s = None
                v.statustext(SEV_INFO, "Takeoff detected\t")
                self.set_landed_state(
                    LandedState.TAKEOFF if v.navigator.is_taking_off() else LandedState.IN_AIR
                )
            return
        # landed: on the ground, not moving vertically, thrust at most THR_MIN + 0.1 (hover -
        # THR_MIN) (maybe_landed), for LAND_DETECT_S (three ~333 ms hysteresis stages)
        resting = m.up_m <= 0.0 and abs(m.vu_mps) < 0.25
        if resting and m.thrust <= d.thr_min + 0.1 * band + 1e-9:
            if self._touchdown_s is None:
                self._touchdown_s = v.time_s
        else:
            self._touchdown_s = None
        if self._touchdown_s is not None and v.time_s - self._touchdown_s >= LAND_DETECT_S:
            self._touchdown_s = None
            self.set_landed_state(LandedState.ON_GROUND)
            self._landed_at_s = v.time_s
            m.stop()
            v.statustext(SEV_INFO, "Landing detected\t")
            v.navigator.on_landed()
            if v.nav_state is NavState.TERMINATION and v.armed:
                self.disarm(forced=True, why="Disarmed: flight terminated")
            return
        if v.navigator.is_landing():
            self.set_landed_state(LandedState.LANDING)
        elif v.navigator.is_taking_off():
            self.set_landed_state(LandedState.TAKEOFF)
        else:
            self.set_landed_state(LandedState.IN_AIR)
