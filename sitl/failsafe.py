"""PX4's failsafe framework, simulated: conditions, actions, the hold delay.

A condition (data link lost, battery critical or emergency, geofence breach, position
lost, motor failure) maps to an action through its parameter (``NAV_DLL_ACT``,
``COM_LOW_BAT_ACT``, ``GF_ACTION``; position loss → Descend; motor failure →
Termination). The vehicle holds for ``COM_FAIL_ACT_T`` (vehicle time) before acting,
except where holding is impossible or is itself the action. While an action is pending
or active, HEARTBEAT reports ``MAV_STATE_CRITICAL``. A condition acts once per
occurrence (it must clear before it can act again); the battery acts only when its
warning got worse than at arming. ``COM_DL_LOSS_T`` runs on real time (see
:mod:`sitl.vehicle`). On a geofence Hold the vehicle brakes and holds just inside the
fence, like PX4's multicopter breach avoidance.
"""

from __future__ import annotations

import logging
import math
from enum import StrEnum
from typing import Protocol

from sitl.battery import Thresholds, WarningLevel
from sitl.geofence import Geofence
from sitl.modes import NavState
from sitl.outbox import StatusText
from sitl.state import VehicleState

logger = logging.getLogger(__name__)

FENCE_CHECK_INTERVAL_S = 0.1
FENCE_BACKOFF_M = 3.0


class FailsafeAction(StrEnum):
    WARN = "warn"
    HOLD = "hold"
    RTL = "return"
    LAND = "land"
    DESCEND = "descend"
    TERMINATE = "terminate"
    DISARM = "disarm"


_SEVERITY = {
    FailsafeAction.WARN: 0,
    FailsafeAction.HOLD: 1,
    FailsafeAction.RTL: 2,
    FailsafeAction.LAND: 3,
    FailsafeAction.DESCEND: 4,
    FailsafeAction.DISARM: 5,
    FailsafeAction.TERMINATE: 6,
}
_ACTION_STATE = {
    FailsafeAction.HOLD: NavState.HOLD,
    FailsafeAction.RTL: NavState.RTL,
    FailsafeAction.LAND: NavState.LAND,
    FailsafeAction.DESCEND: NavState.DESCEND,
    FailsafeAction.TERMINATE: NavState.TERMINATION,
}


class Reason(StrEnum):
    DATA_LINK = "data link lost"
    BATTERY_CRITICAL = "critical battery"
    BATTERY_EMERGENCY = "emergency battery"
    GEOFENCE = "geofence violation"
    POSITION = "no global position"
    MOTOR = "motor failure"


def _nav_action(value: int) -> FailsafeAction | None:
    """NAV_DLL_ACT / GF_ACTION style codes → action (None = disabled)."""
    return {
        1: FailsafeAction.HOLD,
        2: FailsafeAction.RTL,
        3: FailsafeAction.LAND,
        5: FailsafeAction.TERMINATE,
        6: FailsafeAction.DISARM,
    }.get(value)


def _gf_action(value: int) -> FailsafeAction | None:
    return {
        1: FailsafeAction.WARN,
        2: FailsafeAction.HOLD,
        3: FailsafeAction.RTL,
        4: FailsafeAction.TERMINATE,
        5: FailsafeAction.LAND,
    }.get(value)


class FailsafeModes(Protocol):
    """How a failsafe action changes the vehicle's mode (the commander)."""

    def set_nav_state(self, new: NavState) -> None: ...

    def disarm(self, *, forced: bool, why: str = ...) -> object: ...


class FailsafeHold(Protocol):
    """How a failsafe Hold holds (the navigator)."""

    def brake(self) -> None: ...

    def reposition(
        self, north: float, east: float, up: float, speed: float | None, heading: float | None
    ) -> None: ...


class Failsafes:
    """The failsafe state of one vehicle; the commander owns one."""

    def __init__(
        self,
        state: VehicleState,
        out: StatusText,
        modes: FailsafeModes,
        hold: FailsafeHold,
    ) -> None:
        self.s = state
        self.out = out
        self.modes = modes
        self.hold = hold
        self.geofence = Geofence()
        self.fence_breached = False
        self._pending: tuple[Reason, FailsafeAction, float] | None = None
        self._active: tuple[Reason, FailsafeAction] | None = None
        self._conditions: set[Reason] = set()
        self._last_gcs_heartbeat_s: float | None = None
        self._dl_lost = False
        self._battery_level_at_arming = WarningLevel.NONE
        self._battery_reported = WarningLevel.NONE
        self._next_fence_check_s = 0.0
        self._last_inside_ne: tuple[float, float] | None = None

    @property
    def active(self) -> bool:
        return self._pending is not None or self._active is not None

    def holds_control(self) -> bool:
        """True while a failsafe the user may not override (Land/Descend/Terminate of a
        condition still present) is pending or active."""
        current = self._active or (self._pending[:2] if self._pending else None)
        if current is None:
            return False
        reason, action = current
        return reason in self._conditions and action in (
            FailsafeAction.LAND,
            FailsafeAction.DESCEND,
            FailsafeAction.TERMINATE,
        )

    def clear(self) -> None:
        """The user took over (accepted mode change) or the vehicle disarmed."""
        self._pending = None
        self._active = None

    def on_armed(self) -> None:
        self._battery_level_at_arming = self.battery_warning()

    def battery_warning(self) -> WarningLevel:
        p = self.s.params
        return self.s.battery.warning(
            Thresholds(
                p.get_float("BAT_LOW_THR"),
                p.get_float("BAT_CRIT_THR"),
                p.get_float("BAT_EMERGEN_THR"),
            )
        )

    def terminate(self) -> None:
        """DO_FLIGHTTERMINATION."""
        self._execute(Reason.MOTOR, FailsafeAction.TERMINATE, announce=False)

    @property
    def gcs_connection_lost(self) -> bool:
        """No GCS heard yet, or not for COM_DL_LOSS_T (PX4 starts out "lost")."""
        return self._last_gcs_heartbeat_s is None or self._dl_lost

    def gcs_heartbeat(self, now_real_s: float) -> None:
        self._last_gcs_heartbeat_s = now_real_s
        if self._dl_lost:
            self._dl_lost = False
            self.out.statustext(6, "Data link regained")
            self._conditions.discard(Reason.DATA_LINK)

    def update_real(self, now_real_s: float) -> None:
        """Checks on real time: data-link loss (COM_DL_LOSS_T is real seconds, see vehicle)."""
        last = self._last_gcs_heartbeat_s
        if last is None or self._dl_lost:
            return
        if now_real_s - last > self.s.params.get_int("COM_DL_LOSS_T"):
            self._dl_lost = True
            self.out.statustext(2, "Connection to ground station lost")
            action = _nav_action(self.s.params.get_int("NAV_DLL_ACT"))
            if action is not None and self.s.nav_state not in (NavState.LAND, NavState.PRECLAND):
                self._condition(Reason.DATA_LINK, action)

    def update_vehicle(self) -> None:
        """Per physics step (vehicle time)."""
        s = self.s
        self._check_battery()
        if s.time_s >= self._next_fence_check_s:
            self._next_fence_check_s = s.time_s + FENCE_CHECK_INTERVAL_S
            self._check_geofence()
        if s.gps_failed:
            if (
                s.armed
                and s.in_air()
                and s.nav_state not in (NavState.LAND, NavState.DESCEND, NavState.TERMINATION)
            ):
                self._condition(Reason.POSITION, FailsafeAction.DESCEND)
        else:
            self._conditions.discard(Reason.POSITION)
        if s.motor_failed and s.armed and s.in_air():
            self._condition(Reason.MOTOR, FailsafeAction.TERMINATE)
        if self._pending is not None and s.time_s >= self._pending[2]:
            reason, action, _ = self._pending
            self._pending = None
            self._execute(reason, action)

    def _check_battery(self) -> None:
        s = self.s
        level = self.battery_warning()
        if level <= self._battery_reported:
            if level < self._battery_reported and not s.armed:
                self._battery_reported = level
            return
        self._battery_reported = level
        text = {
            WarningLevel.LOW: "Low battery level! Return advised",
            WarningLevel.CRITICAL: "Critical battery level! Land now",
            WarningLevel.EMERGENCY: "Emergency battery level! Landing immediately",
        }.get(level)
        if text:
            self.out.statustext(2 if level >= WarningLevel.CRITICAL else 4, text)
        if not s.armed or level <= self._battery_level_at_arming:
            return
        act = s.params.get_int("COM_LOW_BAT_ACT")
        if level is WarningLevel.CRITICAL and act in (1, 2, 3):
            action = FailsafeAction.LAND if act == 2 else FailsafeAction.RTL
            self._condition(Reason.BATTERY_CRITICAL, action)
        elif level >= WarningLevel.EMERGENCY and act in (1, 2, 3):
            self._condition(Reason.BATTERY_EMERGENCY, FailsafeAction.LAND)

    def set_geofence(self, fence: Geofence) -> None:
        self.geofence = fence
        self._check_geofence()

    def _check_geofence(self) -> None:
        s = self.s
        m = s.motion
        breached = self.geofence.breached(m.north_m, m.east_m)
        max_hor = s.params.get_float("GF_MAX_HOR_DIST")
        max_ver = s.params.get_float("GF_MAX_VER_DIST")
        if max_hor > 0:
            hn, he = s.home_ne()
            breached = breached or math.hypot(m.north_m - hn, m.east_m - he) > max_hor
        if max_ver > 0:
            breached = breached or s.alt_rel_m() > max_ver
        if breached and not self.fence_breached:
            self.out.statustext(2, "Geofence violation")
            if s.armed:
                action = _gf_action(s.params.get_int("GF_ACTION"))
                if action is not None:
                    self._condition(Reason.GEOFENCE, action)
        if not breached:
            self._conditions.discard(Reason.GEOFENCE)
            self._last_inside_ne = (m.north_m, m.east_m)
        self.fence_breached = breached

    # --- failsafe framework ----------------------------------------------------------------
    def _condition(self, reason: Reason, action: FailsafeAction) -> None:
        """A failsafe condition is present; act on its rising edge."""
        if reason in self._conditions:
            return
        self._conditions.add(reason)
        s = self.s
        if not s.armed:
            return
        if action is FailsafeAction.WARN:
            return
        current = self._active[1] if self._active else (self._pending[1] if self._pending else None)
        if current is not None and _SEVERITY[current] >= _SEVERITY[action]:
            return
        delay = s.params.get_float("COM_FAIL_ACT_T")
        immediate = action in (
            FailsafeAction.HOLD,
            FailsafeAction.DESCEND,
            FailsafeAction.TERMINATE,
            FailsafeAction.DISARM,
        )
        if immediate or delay <= 0 or not s.in_air():
            self._pending = None
            self._execute(reason, action)
            return
        self.out.statustext(2, f"Failsafe activated: {reason}, {action} in {delay:g} s")
        self._pending = (reason, action, s.time_s + delay)
        self._active = None
        if s.nav_state is not NavState.HOLD:
            self.modes.set_nav_state(NavState.HOLD)

    def _execute(self, reason: Reason, action: FailsafeAction, *, announce: bool = True) -> None:
        s = self.s
        if announce:
            self.out.statustext(2, f"Failsafe activated: {reason}, {action}")
        if action is FailsafeAction.DISARM:
            self.modes.disarm(forced=True, why="Disarmed by failsafe\t")
            return
        self._active = (reason, action)
        state = _ACTION_STATE[action]
        if state is NavState.TERMINATION:
            s.motor_failed = True
        if s.nav_state is not state or state is NavState.HOLD:
            self.modes.set_nav_state(state)
        if state is NavState.HOLD:
            self.hold.brake()
        if state is NavState.HOLD and reason is Reason.GEOFENCE:
            self._hold_inside_fence()

    def _hold_inside_fence(self) -> None:
        """Like PX4's breach avoidance for multicopters: brake and hold at a point back
        inside the fence (the last position seen inside, moved a little further in)."""
        inside = self._last_inside_ne
        if inside is None:
            return
        m = self.s.motion
        dn, de = inside[0] - m.north_m, inside[1] - m.east_m
        dist = math.hypot(dn, de)
        if dist > 0.01:
            k = FENCE_BACKOFF_M / dist
            inside = (inside[0] + dn * k, inside[1] + de * k)
        self.hold.reposition(inside[0], inside[1], m.up_m, None, None)
