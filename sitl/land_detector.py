"""PX4's land detector and auto-disarm, simulated (vehicle time).

``MulticopterLandDetector``: the vehicle is in the air once the thrust leaves the
low-thrust band of ground contact, and landed after ``LAND_DETECT_S`` resting on the
ground at low thrust. ``Commander::handleAutoDisarm``: ``COM_DISARM_LAND`` after a
landing, ``COM_SPOOLUP_TIME + COM_DISARM_PRFLT`` when it never took off.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sitl.modes import LandedState, NavState
from sitl.outbox import SEV_INFO, StatusText
from sitl.state import VehicleState

logger = logging.getLogger(__name__)

LAND_DETECT_S = 1.0  # MulticopterLandDetector: land_detection_time (3 x 1/3 s), vehicle time


class Disarming(Protocol):
    def disarm(self, *, forced: bool, why: str = ...) -> object: ...


class LandingNav(Protocol):
    """The navigator as the land detector asks it."""

    def is_taking_off(self) -> bool: ...

    def is_landing(self) -> bool: ...

    def mission_finished(self) -> bool: ...

    def on_landed(self) -> None: ...


class LandDetector:
    def __init__(
        self, state: VehicleState, out: StatusText, modes: Disarming, nav: LandingNav
    ) -> None:
        self.s = state
        self.out = out
        self.modes = modes
        self.nav = nav
        self._armed_at_s = 0.0
        self._took_off = False  # Commander::_have_taken_off_since_arming
        self._landed_at_s: float | None = None
        self._touchdown_s: float | None = None

    def on_armed(self) -> None:
        s = self.s
        self._armed_at_s = s.time_s
        self._took_off = s.in_air()
        self._landed_at_s = None

    def update(self) -> None:
        """Per physics step: landing detection, then auto-disarm."""
        self._update_landed_state()
        self._auto_disarm()

    def _set_landed_state(self, new: LandedState) -> None:
        old = self.s.landed_state
        if old is new:
            return
        logger.info("%s: landed state %s -> %s", self.s.name, old, new)
        self.s.landed_state = new

    def mission_in_progress(self) -> bool:
        """Commander::_mission_in_progress: in Mission and the mission has not finished."""
        s = self.s
        return s.nav_state is NavState.MISSION and not self.nav.mission_finished()

    def _auto_disarm(self) -> None:
        """Commander::handleAutoDisarm (vehicle time, as PX4's hrt time under lockstep).

        After a takeoff: ``COM_DISARM_LAND`` s landed, unless a mission is in progress.
        Before any takeoff since arming: ``COM_SPOOLUP_TIME + COM_DISARM_PRFLT`` s after
        arming, in every mode ("Disarmed by auto preflight disarming")."""
        s = self.s
        if not s.armed:
            return
        land_s = s.params.get_float("COM_DISARM_LAND")
        preflight_s = s.params.get_float("COM_DISARM_PRFLT")
        if land_s > 0 and not self.mission_in_progress() and self._took_off:
            landed_at = self._landed_at_s if s.landed_state is LandedState.ON_GROUND else None
            if landed_at is not None and s.time_s - landed_at >= land_s:
                self.modes.disarm(forced=False, why="Disarmed by landing\t")
        elif preflight_s > 0 and not self._took_off:
            limit = s.params.get_float("COM_SPOOLUP_TIME") + preflight_s
            if s.time_s - self._armed_at_s >= limit and s.landed_state is LandedState.ON_GROUND:
                self.modes.disarm(forced=False, why="Disarmed by auto preflight disarming\t")

    def _update_landed_state(self) -> None:
        s = self.s
        m = s.motion
        state = s.landed_state
        d = m.dynamics
        band = d.hover_thrust - d.thr_min
        if state is LandedState.ON_GROUND:
            # MulticopterLandDetector: "landed" drops at once when the thrust leaves the
            # low-thrust band of ground contact (THR_MIN + 0.3 (hover - THR_MIN)), which the
            # takeoff ramp does before the vehicle lifts
            if s.armed and (m.thrust > d.thr_min + 0.3 * band or m.up_m > 0.2):
                self._touchdown_s = None
                self._took_off = True
                self._landed_at_s = None
                self.out.statustext(SEV_INFO, "Takeoff detected\t")
                self._set_landed_state(
                    LandedState.TAKEOFF if self.nav.is_taking_off() else LandedState.IN_AIR
                )
            return
        # landed: on the ground, not moving vertically, thrust at most THR_MIN + 0.1 (hover -
        # THR_MIN) (maybe_landed), for LAND_DETECT_S (three ~333 ms hysteresis stages)
        resting = m.up_m <= 0.0 and abs(m.vu_mps) < 0.25
        if resting and m.thrust <= d.thr_min + 0.1 * band + 1e-9:
            if self._touchdown_s is None:
                self._touchdown_s = s.time_s
        else:
            self._touchdown_s = None
        if self._touchdown_s is not None and s.time_s - self._touchdown_s >= LAND_DETECT_S:
            self._touchdown_s = None
            self._set_landed_state(LandedState.ON_GROUND)
            self._landed_at_s = s.time_s
            m.stop()
            self.out.statustext(SEV_INFO, "Landing detected\t")
            self.nav.on_landed()
            if s.nav_state is NavState.TERMINATION and s.armed:
                self.modes.disarm(forced=True, why="Disarmed: flight terminated")
            return
        if self.nav.is_landing():
            self._set_landed_state(LandedState.LANDING)
        elif self.nav.is_taking_off():
            self._set_landed_state(LandedState.TAKEOFF)
        else:
            self._set_landed_state(LandedState.IN_AIR)
