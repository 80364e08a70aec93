"""Mission mode, as PX4's ``navigator/mission.cpp``: flying the uploaded mission.

Waypoints with acceptance radius and hold time, DO_CHANGE_SPEED, NAV_DELAY,
LOITER_TIME/UNLIM, TAKEOFF, LAND, RETURN_TO_LAUNCH, DO_JUMP; the climb PX4 inserts when the
first position item is above the vehicle; MISSION_CURRENT's state and
MISSION_ITEM_REACHED. Whether the mission may run at all is :mod:`sitl.mission_check`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import IntEnum, StrEnum

from sitl.mission_item import MissionItem
from sitl.modes import NavState
from sitl.motion import Velocity
from sitl.outbox import Outbox
from sitl.pilot import ModeSwitch, Pilot, Setpoint
from sitl.state import VehicleState
from sitl.telemetry import MISSION_CURRENT

CMD_NAV_WAYPOINT = 16
CMD_NAV_LOITER_UNLIM = 17
CMD_NAV_LOITER_TIME = 19
CMD_NAV_RETURN_TO_LAUNCH = 20
CMD_NAV_LAND = 21
CMD_NAV_TAKEOFF = 22
CMD_NAV_LOITER_TO_ALT = 31
CMD_NAV_DELAY = 93
CMD_CONDITION_DELAY = 112
CMD_DO_JUMP = 177
CMD_DO_CHANGE_SPEED = 178
POSITION_COMMANDS = {
    CMD_NAV_WAYPOINT,
    CMD_NAV_LOITER_UNLIM,
    CMD_NAV_LOITER_TIME,
    CMD_NAV_LAND,
    CMD_NAV_TAKEOFF,
    CMD_NAV_LOITER_TO_ALT,
}
UINT16_MAX = 65535


class MissionState(IntEnum):
    """MISSION_STATE (MISSION_CURRENT.mission_state)."""

    UNKNOWN = 0
    NO_MISSION = 1
    NOT_STARTED = 2
    ACTIVE = 3
    PAUSED = 4
    COMPLETE = 5


class ItemPhase(StrEnum):
    TAKEOFF = "takeoff"  # inserted climb when a mission starts on the ground
    FLY = "fly"
    WAIT = "wait"
    DESCEND = "descend"  # NAV_LAND's final descent


class MissionFlight:
    """The mission, where the vehicle is in it, and the setpoint that flies it."""

    def __init__(self, state: VehicleState, out: Outbox, pilot: Pilot, modes: ModeSwitch) -> None:
        self.s = state
        self.out = out
        self.pilot = pilot
        self.modes = modes
        self.items: list[MissionItem] = []
        self.mission_id = 0
        self._current = 0
        self._state = MissionState.NO_MISSION
        self._item_phase = ItemPhase.FLY
        self._wait_until = 0.0
        self._item_ne: tuple[float, float] | None = None
        self._climb_ne: tuple[float, float] | None = None  # where the inserted climb is
        self._climb_up_m = 0.0  # the climb a mission inserts before its first position item
        self._climb_from_ground = False
        self._item_prev: tuple[float, float, float] | None = None  # the triplet's "previous"
        self._jumps_done: dict[int, int] = {}  # DO_JUMP seq -> jumps taken

    # --- what the navigator asks ----------------------------------------------------------
    def finished(self) -> bool:
        return self._state is MissionState.COMPLETE

    def on_leave(self) -> None:
        """Nav state left Mission: an active mission is paused."""
        if self._state is MissionState.ACTIVE:
            self._state = MissionState.PAUSED

    def on_landed(self) -> None:
        """Landing detected: a NAV_LAND item is done."""
        if self._current < len(self.items):
            item = self.items[self._current]
            if item.command == CMD_NAV_LAND:
                self.reached_and_advance()

    def is_taking_off(self) -> bool:
        if self._state is MissionState.ACTIVE:
            if self._item_phase is ItemPhase.TAKEOFF:
                return True
            item = self.current_item()
            return item is not None and item.command == CMD_NAV_TAKEOFF
        return False

    def is_landing(self) -> bool:
        return self._item_phase is ItemPhase.DESCEND

    # --- the mission ----------------------------------------------------------------------
    def replay_speed(self) -> None:
        """MissionBase::on_activation: the last DO_CHANGE_SPEED before the current item."""
        self.pilot.set_speed(None)
        for item in self.items[: self._current]:
            if item.command == CMD_DO_CHANGE_SPEED:
                self._apply_change_speed(item.param2)

    def _apply_change_speed(self, speed_mps: float) -> None:
        """navigator_main.cpp DO_CHANGE_SPEED: param2 > 0 sets the cruise speed, anything
        else resets it to the default (MPC_XY_CRUISE); param1 (speed type) is ignored."""
        self.pilot.set_speed(speed_mps if math.isfinite(speed_mps) and speed_mps > 0 else None)

    def set_items(self, items: Sequence[MissionItem], mission_id: int) -> None:
        self.items = list(items)
        self.mission_id = mission_id
        self._current = 0
        for item in items:
            if item.current:
                self._current = item.seq
        self._state = MissionState.NOT_STARTED if items else MissionState.NO_MISSION
        self._jumps_done = {}
        self._item_phase = ItemPhase.FLY
        self._item_ne = None
        if self.s.nav_state is NavState.MISSION and items and self.s.armed:
            self.start()
        self.out.send_all(MISSION_CURRENT)

    def seq_total(self) -> int:
        return len(self.items)

    def set_current(self, seq: int) -> bool:
        if not 0 <= seq < len(self.items):
            return False
        self._current = seq
        self._item_phase = ItemPhase.FLY
        self._item_ne = None
        if self._state is MissionState.COMPLETE:
            self._state = (
                MissionState.ACTIVE
                if self.s.nav_state is NavState.MISSION
                else MissionState.NOT_STARTED
            )
        self.out.send_all(MISSION_CURRENT)
        return True

    def status(self) -> tuple[int, int, int, int]:
        """(seq, total, mission_state, mission_mode) for MISSION_CURRENT."""
        if not self.items:
            return 0, UINT16_MAX, MissionState.NO_MISSION, 0
        in_mission = self.s.nav_state is NavState.MISSION
        mode = 1 if in_mission else (2 if self._state is MissionState.PAUSED else 0)
        seq = min(self._current, len(self.items) - 1)
        return seq, len(self.items), int(self._state), mode

    def current_item(self) -> MissionItem | None:
        if 0 <= self._current < len(self.items):
            return self.items[self._current]
        return None

    def start(self) -> None:
        s = self.s
        if not self.items:
            return
        if self._state is MissionState.COMPLETE:
            self.pilot.hold = None
            return
        was_active = self._state is MissionState.ACTIVE
        self._state = MissionState.ACTIVE if s.armed else MissionState.NOT_STARTED
        self._item_ne = None
        self._item_phase = ItemPhase.FLY
        self._item_prev = (s.motion.north_m, s.motion.east_m, s.motion.up_m)
        if s.armed:
            if not was_active:
                self.out.statustext(6, "Executing Mission\t")
            self._check_climb_required()
        self.out.send_all(MISSION_CURRENT)

    def _check_climb_required(self) -> None:
        """MissionBase::checkClimbRequired + Mission::handleTakeoff: if the next position
        item (a TAKEOFF counts) is more than NAV_MC_ALT_RAD above the vehicle, climb to its
        altitude first, straight up where the vehicle is."""
        s = self.s
        m = s.motion
        item = next(
            (i for i in self.items[self._current :] if i.command in POSITION_COMMANDS), None
        )
        if item is None:
            return
        up = item.alt_up_m(ground_alt_amsl_m=s.ground_alt_amsl_m, home_alt_amsl_m=s.home.alt_amsl_m)
        if up is None or up - m.up_m <= self.pilot.param("NAV_MC_ALT_RAD"):
            return
        self._item_phase = ItemPhase.TAKEOFF
        self._climb_up_m = up
        self._climb_from_ground = not s.in_air()  # NAV_CMD_TAKEOFF if landed, else LOITER_TO_ALT
        self._climb_ne = (m.north_m, m.east_m)
        self.out.statustext(6, f"Climb to {up - s.home_up_m():.1f} meters above home\t")

    def _item_target(self, item: MissionItem) -> tuple[float, float, float]:
        s = self.s
        m = s.motion
        if self._item_ne is None:
            if item.has_position and item.command in POSITION_COMMANDS:
                self._item_ne = s.frame.to_ne(item.lat_deg, item.lon_deg)
            else:
                self._item_ne = (m.north_m, m.east_m)
        up = item.alt_up_m(ground_alt_amsl_m=s.ground_alt_amsl_m, home_alt_amsl_m=s.home.alt_amsl_m)
        if up is None or item.command == CMD_NAV_LAND:
            up = m.up_m
        return self._item_ne[0], self._item_ne[1], max(up, 0.5)

    def _following_point(self, index: int) -> tuple[float, float, float] | None:
        """The triplet's "next": the next position item when item ``index`` is flown
        through (a WAYPOINT without hold time, autocontinue), else None (stop there)."""
        s = self.s
        item = self.items[index]
        if item.command != CMD_NAV_WAYPOINT or not item.autocontinue:
            return None
        if math.isfinite(item.param1) and item.param1 > 0:
            return None
        for nxt in self.items[index + 1 :]:
            if nxt.command in POSITION_COMMANDS:
                up = nxt.alt_up_m(
                    ground_alt_amsl_m=s.ground_alt_amsl_m, home_alt_amsl_m=s.home.alt_amsl_m
                )
                if not nxt.has_position or up is None or nxt.command == CMD_NAV_LAND:
                    return None
                north, east = s.frame.to_ne(nxt.lat_deg, nxt.lon_deg)
                return north, east, max(up, 0.5)
            if nxt.command in (CMD_NAV_RETURN_TO_LAUNCH, CMD_DO_JUMP, CMD_NAV_DELAY):
                return None
        return None

    def acceptance_radius_m(self, item: MissionItem) -> float:
        if item.command == CMD_NAV_WAYPOINT and math.isfinite(item.param2) and item.param2 > 0:
            return item.param2
        return self.pilot.param("NAV_ACC_RAD")

    def reached_and_advance(self) -> None:
        s = self.s
        seq = self._current
        self.out.mission_item_reached(seq)
        self._item_phase = ItemPhase.FLY
        self._item_ne = None
        if seq + 1 >= len(self.items):
            self._state = MissionState.COMPLETE
            self.pilot.hold = None
            self.out.statustext(
                6, "Mission finished, loitering\t" if s.in_air() else "Mission finished, landed\t"
            )
        else:
            self._current = seq + 1
        self.out.send_all(MISSION_CURRENT)

    def update(self) -> Setpoint:
        s = self.s
        m = s.motion
        if self._state is not MissionState.ACTIVE:
            return self.pilot.hold_position()
        if self._item_phase is ItemPhase.TAKEOFF:
            ne = self._climb_ne or (m.north_m, m.east_m)
            target = self._climb_up_m
            climb_m = target - s.home_up_m()
            acceptance = (
                climb_m / 2
                if climb_m < self.pilot.param("NAV_MC_ALT_RAD")
                else self.pilot.param("NAV_MC_ALT_RAD")
            )
            if m.up_m > target - acceptance:  # takeoff reached: altitude only
                self._item_phase = ItemPhase.FLY
                self._item_prev = (ne[0], ne[1], target)
            else:
                # the inserted CLIMB: a takeoff setpoint if it started on the ground
                return self.pilot.fly_to(
                    ne[0], ne[1], target, takeoff=self._climb_from_ground, heading=m.heading_deg
                )
        # several non-position items may complete in one step
        for _ in range(len(self.items) + 1):
            item = self.current_item()
            if item is None or self._state is not MissionState.ACTIVE:
                return self.pilot.hold_position()
            cmd = item.command
            if cmd == CMD_DO_CHANGE_SPEED:
                self._apply_change_speed(item.param2)
                self.reached_and_advance()
                continue
            if cmd == CMD_NAV_RETURN_TO_LAUNCH:
                self.reached_and_advance()
                self._state = MissionState.COMPLETE
                self.modes.request_mode(NavState.RTL, user=False)
                return Velocity(), None
            if cmd == CMD_DO_JUMP:
                self._do_jump(item)
                continue
            if cmd in (CMD_NAV_DELAY, CMD_CONDITION_DELAY):
                return self._wait_here(item, item.param1)
            if cmd in POSITION_COMMANDS:
                return self._position_item(item)
            # DO_* and other non-navigation items: done at once
            self.reached_and_advance()
        return self.pilot.hold_position()

    def _do_jump(self, item: MissionItem) -> None:
        """DO_JUMP: go to item param1, param2 times (then carry on after the jump item)."""
        target = int(item.param1) if math.isfinite(item.param1) else -1
        repeats = int(item.param2) if math.isfinite(item.param2) else 0
        done = self._jumps_done.get(item.seq, 0)
        if 0 <= target < len(self.items) and target != item.seq and done < repeats:
            self._jumps_done[item.seq] = done + 1
            self._current = target
            self._item_phase = ItemPhase.FLY
            self._item_ne = None
            self.out.send_all(MISSION_CURRENT)
            return
        self.reached_and_advance()

    def _wait_here(self, item: MissionItem, seconds: float) -> Setpoint:
        s = self.s
        m = s.motion
        if self._item_phase is not ItemPhase.WAIT:
            if not math.isfinite(seconds) or seconds < 0:
                self.reached_and_advance()
                return Velocity(), None
            self._item_phase = ItemPhase.WAIT
            self._wait_until = s.time_s + seconds
            self._item_ne = (m.north_m, m.east_m)
            self.pilot.hold = (m.north_m, m.east_m, m.up_m)
        if s.time_s >= self._wait_until:
            self.reached_and_advance()
            return Velocity(), None
        n, e, up = self.pilot.hold or (m.north_m, m.east_m, m.up_m)
        return self.pilot.fly_to(n, e, up)

    def _position_item(self, item: MissionItem) -> Setpoint:
        s = self.s
        m = s.motion
        n, e, up = self._item_target(item)
        cmd = item.command
        if self._item_phase is ItemPhase.DESCEND:
            return self.pilot.descend_at((n, e))
        if self._item_phase is ItemPhase.WAIT:
            if cmd == CMD_NAV_LOITER_UNLIM or s.time_s < self._wait_until:
                return self.pilot.fly_to(n, e, up)
            self.reached_and_advance()
            return self.pilot.fly_to(n, e, up)
        # after the inserted climb a TAKEOFF item is flown as a WAYPOINT at its own point
        # (Mission::handleTakeoff); MissionBlock::is_mission_item_reached_or_completed:
        # dist_xy <= R (item param2 if > 0, else NAV_ACC_RAD), dist_z <= NAV_MC_ALT_RAD
        radius = self.acceptance_radius_m(item)
        dist = math.hypot(n - m.north_m, e - m.east_m)
        alt_ok = abs(up - m.up_m) <= self.pilot.param("NAV_MC_ALT_RAD")
        previous = self._item_prev
        if cmd == CMD_NAV_LAND:
            if dist < 1.0:
                self._item_phase = ItemPhase.DESCEND
                return self.pilot.descend_at((n, e))
            return self.pilot.fly_to(n, e, up, previous=previous)
        following = self._following_point(self._current)
        if dist <= radius and alt_ok:
            hold_s = item.param1 if cmd in (CMD_NAV_WAYPOINT, CMD_NAV_LOITER_TIME) else 0.0
            if cmd == CMD_NAV_LOITER_UNLIM or (math.isfinite(hold_s) and hold_s > 0):
                self._item_phase = ItemPhase.WAIT
                self._wait_until = s.time_s + (hold_s if math.isfinite(hold_s) else 0.0)
                return self.pilot.fly_to(n, e, up)
            self.reached_and_advance()
            self._item_prev = (n, e, up)
        return self.pilot.fly_to(n, e, up, previous=previous, following=following, radius_m=radius)
