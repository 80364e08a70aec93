"""PX4 Commander, simulated: commands → COMMAND_ACK, arming, mode changes.

Every COMMAND_LONG/COMMAND_INT addressed to the vehicle gets exactly one
COMMAND_ACK targeted at the requester. Unset parameters arrive as NaN (MAVSDK's
PX4 convention) and are treated as unset. COMMAND_INT is refused with
``MAV_RESULT_COMMAND_UNSUPPORTED_MAV_FRAME`` (9) unless its frame is
``MAV_FRAME_GLOBAL_INT`` (5), as PX4 main does since PR #26408. The handlers are
:mod:`sitl.flight_commands` and :mod:`sitl.system_commands`. The commander owns the land
detector and auto-disarm (:mod:`sitl.land_detector`, ``COM_DISARM_LAND``,
``COM_DISARM_PRFLT``) and the failsafes (:mod:`sitl.failsafe`).

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
from typing import Any

from sitl.battery import WarningLevel
from sitl.commands import (
    MAV_COMP_ID_MISSIONPLANNER,
    MAV_FRAME_GLOBAL_INT,
    CommandOutbox,
    CommandParams,
    Handler,
    NavigatorControl,
    Result,
)
from sitl.failsafe import Failsafes
from sitl.flight_commands import FLIGHT_HANDLERS
from sitl.geofence import Geofence
from sitl.land_detector import LandDetector
from sitl.link import Link
from sitl.modes import MODE_NAME, LandedState, NavState, requested_state
from sitl.outbox import SEV_CRITICAL, SEV_INFO
from sitl.state import Home, VehicleState
from sitl.system_commands import SYSTEM_HANDLERS

logger = logging.getLogger(__name__)

REJECT_TEXT_INTERVAL_S = 1.0  # Commander::printRejectMode, vehicle time
_MANUAL_MODES = (
    NavState.MANUAL,
    NavState.ALTCTL,
    NavState.POSCTL,
    NavState.STABILIZED,
    NavState.ACRO,
)
HANDLERS: dict[int, Handler] = {**FLIGHT_HANDLERS, **SYSTEM_HANDLERS}


class Commander:
    def __init__(self, state: VehicleState, out: CommandOutbox, nav: NavigatorControl) -> None:
        self.s = state
        self.out = out
        self.nav = nav
        self.failsafes = Failsafes(state, out, self, nav)
        self.landing = LandDetector(state, out, self, nav)
        self._last_reject_text_s = -math.inf

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
        self.nav.update_real(now_real_s)

    def arming_problem(self) -> str | None:
        """Why arming would be refused now, or None (the PREARM bit mirrors this)."""
        s = self.s
        if s.gps_failed:
            return "Arming denied: no valid global position"
        if s.motor_failed:
            return "Arming denied: motor failure"
        if self.failsafes.fence_breached:
            return "Arming denied: Geofence violation"
        if self.battery_warning() >= WarningLevel.CRITICAL:
            return "Arming denied: battery level too low"
        if s.nav_state in _MANUAL_MODES:
            return "Arming denied: no manual control input"
        if s.nav_state is NavState.TERMINATION:
            return "Arming denied: flight termination active"
        if self.failsafes.gcs_connection_lost and s.params.get_int("NAV_DLL_ACT") > 0:
            # PX4 rcAndDataLinkCheck: with a data-link loss action, no arming without a GCS
            return "Preflight Fail: No connection to the GCS"
        return None

    def prearm_ok(self) -> bool:
        return self.arming_problem() is None

    # --- state changes ---------------------------------------------------------------------
    def set_nav_state(self, new: NavState) -> None:
        old = self.s.nav_state
        if old is NavState.TERMINATION and new is not NavState.TERMINATION:
            raise ValueError(f"{self.s.name}: cannot leave {old} for {new}")
        if old is not new:
            logger.info("%s: nav state %s -> %s", self.s.name, old, new)
        self.s.nav_state = new
        self.nav.enter(new, old)

    def arm(self, *, forced: bool, reason: str = "external command") -> Result:
        s = self.s
        if s.armed:
            return Result.ACCEPTED
        problem = None if forced else self.arming_problem()
        if (
            problem is None
            and not forced
            and s.nav_state in (NavState.RTL, NavState.LAND, NavState.DESCEND, NavState.ORBIT)
        ):
            problem = f"Arming denied: mode {s.nav_state} prevents arming"
        if (
            problem is None
            and not forced
            and not self.nav.mission_runnable()
            and (s.nav_state is NavState.MISSION or s.params.get_int("COM_ARM_MIS_REQ") == 1)
        ):
            # HealthAndArmingChecks: "No valid mission available" fails canArm for Mission
            problem = "Arming denied: Resolve system health failures first\t"
        if problem is not None:
            self.out.statustext(SEV_CRITICAL, problem)
            return Result.TEMPORARILY_REJECTED
        s.armed = True
        self.landing.on_armed()
        self.failsafes.on_armed()
        lat, lon = s.lat_lon()
        s.home = Home(lat, lon, s.alt_amsl_m())
        self.out.send_home()
        self.out.statustext(SEV_INFO, f"Armed by {reason}\t")
        self.nav.on_armed()
        return Result.ACCEPTED

    def disarm(self, *, forced: bool, why: str = "Disarmed by external command\t") -> Result:
        s = self.s
        if not s.armed:
            return Result.ACCEPTED
        if not forced and s.in_air() and s.landed_state is not LandedState.ON_GROUND:
            self.out.statustext(SEV_CRITICAL, "Disarming denied: not landed\t")
            return Result.TEMPORARILY_REJECTED
        s.armed = False
        self.out.statustext(6, why)
        self.failsafes.clear()
        if s.nav_state in (
            NavState.LAND,
            NavState.RTL,
            NavState.TAKEOFF,
            NavState.DESCEND,
            NavState.ORBIT,
        ):
            self.set_nav_state(NavState.HOLD)
        self.nav.on_disarmed()
        return Result.ACCEPTED

    def print_reject_mode(self, state: NavState) -> None:
        """Commander::printRejectMode: at most once per second."""
        s = self.s
        if s.time_s - self._last_reject_text_s > REJECT_TEXT_INTERVAL_S:
            self._last_reject_text_s = s.time_s
            name = MODE_NAME.get(state, str(state))
            self.out.statustext(SEV_CRITICAL, f"Switching to {name} is currently not available\t")

    def can_run(self, state: NavState) -> bool:
        """HealthAndArmingChecks canRun for an armed vehicle (modes this simulator flies)."""
        if state in _MANUAL_MODES:
            return False  # no RC: manual control input is missing
        if state is NavState.MISSION:
            return self.nav.mission_runnable()
        return True

    def mission_cannot_run(self) -> None:
        """Armed in Mission and the mission is no longer valid: the failsafe framework's
        mode fallback (failsafe/framework.cpp modeCanRun) takes the vehicle to Hold."""
        logger.info("%s: mission not valid any more, falling back to Hold", self.s.name)
        self.set_nav_state(NavState.HOLD)

    def request_mode(
        self, state: NavState, *, user: bool = True, announce_reject: bool = True
    ) -> Result:
        """A mode change asked for by a GCS (DO_SET_MODE, takeoff, land, RTL commands).
        ``announce_reject``: send PX4's "Switching to ... is currently not available"."""
        s = self.s
        if s.nav_state is NavState.TERMINATION:
            return Result.DENIED
        if s.armed and not self.can_run(state):
            if announce_reject:
                self.print_reject_mode(state)
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
        if state is NavState.MISSION and s.armed and not self.nav.mission_runnable():
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
                self.s.name,
                p.command,
                p.frame,
                msg.get_seq(),
            )
            self.out.ack(link, msg, p.command, Result.UNSUPPORTED_MAV_FRAME)
            return
        handler = HANDLERS.get(p.command)
        if handler is None:
            result: Result | None = Result.UNSUPPORTED
        else:
            try:
                result = handler(self, link, msg, p)
            except (ValueError, ArithmeticError) as exc:  # e.g. inf/1e30 where an int is due
                logger.info("%s: command %d refused: %s", self.s.name, p.command, exc)
                result = Result.DENIED
        if result is not None:
            self.out.ack(link, msg, p.command, result)
        logger.debug(
            "%s: %s %d frame %s from %d/%d seq %d -> %s",
            self.s.name,
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

    # --- periodic checks -------------------------------------------------------------------
    def update_vehicle(self, dt_s: float) -> None:
        """Per physics step (vehicle time): landing detection, auto-disarm, failsafes."""
        self.landing.update()
        self.failsafes.update_vehicle()
