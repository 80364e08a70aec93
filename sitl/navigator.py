"""PX4 Navigator, simulated: what the vehicle flies in each nav state.

Takeoff (climb at ``MPC_TKO_SPEED`` to the target, then Hold), Hold (brake and
stay, or fly to a DO_REPOSITION point and stay), Land (``MPC_Z_V_AUTO_DN`` above
``MPC_LAND_ALT1``, ``MPC_LAND_SPEED`` below ``MPC_LAND_ALT2``), Descend (no position:
straight down), RTL (climb to ``RTL_RETURN_ALT``, fly home at cruise speed, descend
to ``RTL_DESCEND_ALT``, wait ``RTL_LAND_DELAY``, land), Orbit (fly to the circle, then
around it) and Mission (waypoints with acceptance radius and hold time,
DO_CHANGE_SPEED, NAV_DELAY, LOITER_TIME/UNLIM, TAKEOFF, LAND, RETURN_TO_LAUNCH).
Horizontal speed is ``MPC_XY_CRUISE`` unless DO_CHANGE_SPEED or the reposition
speed says otherwise, capped by ``MPC_XY_VEL_MAX``.

Mission feasibility (PX4 ``navigator/mission_base.cpp`` ``check_mission_valid``,
``canRunMissionFeasibility``; ``navigator/geofence.cpp`` ``Geofence::run``): the navigator
publishes a mission result (valid or not, for which mission id) that the commander reads
to decide whether Mission mode may run. The check runs when a new mission arrives and the
fence is loaded, when a newly uploaded fence has finished loading, and (forced) each time
Mission mode is entered; until then the previous result stands. Loading a fence takes
``FENCE_LOAD_S`` of *real* time: PX4 reads it from its dataman storage with a chain of
asynchronous file reads, one state per navigator cycle, so it is I/O time rather than
simulated time, and a client sees it at any speed factor. A DO_REPOSITION or
DO_CHANGE_ALTITUDE target the fence does not allow is refused ("Reposition is outside
geofence", ``navigator_main.cpp``) and the vehicle brakes and holds instead.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from sitl.feasibility import FeasibilityInput, check_mission
from sitl.geofence import Geofence
from sitl.mission_item import MissionItem, MissionType
from sitl.modes import LandedState, NavState
from sitl.motion import Dynamics, Guidance, Velocity
from sitl.streams import MISSION_CURRENT
from sitl.trajectory import Triplet, VelocityTarget, XYLimits, ZLimits

if TYPE_CHECKING:
    from sitl.vehicle import Vehicle

logger = logging.getLogger(__name__)

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
FENCE_LOAD_S = 0.3  # real time from a fence upload to the navigator's fence being READY
SEV_CRITICAL = 2


class MissionState(IntEnum):
    """MISSION_STATE (MISSION_CURRENT.mission_state)."""

    UNKNOWN = 0
    NO_MISSION = 1
    NOT_STARTED = 2
    ACTIVE = 3
    PAUSED = 4
    COMPLETE = 5


class RtlPhase(StrEnum):
    CLIMB = "climb"
    RETURN = "return"
    DESCEND = "descend"
    LOITER = "loiter"
    LAND = "land"
    DONE = "done"


class ItemPhase(StrEnum):
    TAKEOFF = "takeoff"  # inserted climb when a mission starts on the ground
    FLY = "fly"
    WAIT = "wait"
    DESCEND = "descend"  # NAV_LAND's final descent


@dataclass(frozen=True, slots=True)
class MissionResult:
    """What PX4's navigator publishes as ``mission_result`` after a feasibility check."""

    valid: bool = False
    mission_id: int = 0  # the mission that was checked (0: none)
    fence_id: int = 0  # the fence it was checked against


@dataclass(frozen=True, slots=True)
class Orbit:
    center_ne: tuple[float, float]
    radius_m: float
    direction: int  # +1 clockwise (positive radius), -1 counter-clockwise
    speed_mps: float
    up_m: float
    yaw_behaviour: int


class Navigator:
    def __init__(self, vehicle: Vehicle) -> None:
        self.v = vehicle
        self.takeoff_target_up_m = 2.5
        self.orbit: Orbit | None = None
        self._takeoff_ne: tuple[float, float] | None = None
        self._hold: tuple[float, float, float] | None = None
        self._hold_heading: float | None = None
        self._move_speed: float | None = None  # reposition speed for the current Hold move
        self._speed_override: float | None = None
        self._land_ne: tuple[float, float] | None = None
        self._rtl_phase = RtlPhase.DONE
        self._rtl_up = 0.0
        self._rtl_dest: tuple[float, float, float] = (0.0, 0.0, 0.0)  # north, east, up
        self._rtl_dest_name = "home"
        self._rtl_wait_until = 0.0
        self._orbit_heading: float | None = None
        self.mission: list[MissionItem] = []
        self.mission_id = 0
        self._current = 0
        self._state = MissionState.NO_MISSION
        self._item_phase = ItemPhase.FLY
        self._wait_until = 0.0
        self._item_ne: tuple[float, float] | None = None
        self._climb_up_m = 0.0  # the climb a mission inserts before its first position item
        self._climb_from_ground = False
        self._item_prev: tuple[float, float, float] | None = None  # the triplet's "previous"
        self._target = VelocityTarget()
        self._params_version = -1
        self._params_cache: dict[str, float] = {}
        self._dynamics: Dynamics | None = None
        self._takeoff_climb = False
        self._up_accel: float | None = None
        self._jumps_done: dict[int, int] = {}  # DO_JUMP seq -> jumps taken
        # feasibility: at boot PX4 loads the (empty) fence and finds the empty mission invalid
        self.result = MissionResult()
        self._mission_checked = True
        self._fence = Geofence()  # the fence the navigator has loaded
        self._fence_id = 0
        self._fence_loading: tuple[Geofence, int, float] | None = None  # fence, id, ready at

    # --- speeds ----------------------------------------------------------------------------
    def _p(self, name: str) -> float:
        """A parameter, cached until the table changes (read ~50 times per physics step)."""
        params = self.v.params
        if params.version != self._params_version:
            self._params_version = params.version
            self._params_cache.clear()
            self._dynamics = None
        value = self._params_cache.get(name)
        if value is None:
            value = self._params_cache[name] = params.get_float(name)
        return value

    def dynamics(self) -> Dynamics:
        self._p("MPC_ACC_HOR")  # refreshes the cache if the parameters changed
        if self._dynamics is None:
            self._dynamics = Dynamics.from_params(self.v.params)
        return self._dynamics

    def cruise_speed_mps(self) -> float:
        speed = self._speed_override or self._p("MPC_XY_CRUISE")
        return max(0.1, min(speed, self._p("MPC_XY_VEL_MAX")))

    def set_speed(self, speed_mps: float | None) -> None:
        self._speed_override = speed_mps
        if self._move_speed is not None and speed_mps is not None:
            self._move_speed = speed_mps

    def _fly_to(
        self,
        north: float,
        east: float,
        up: float,
        *,
        speed: float | None = None,
        heading: float | None = None,
        takeoff: bool = False,
        previous: tuple[float, float, float] | None = None,
        following: tuple[float, float, float] | None = None,
        radius_m: float | None = None,
    ) -> tuple[Velocity, float | None]:
        """PX4's velocity target towards a position setpoint (:mod:`sitl.trajectory`).

        ``previous``/``following``: the triplet's previous and next points (None: a single
        setpoint to stop at); ``takeoff``: a takeoff setpoint, flown at ``MPC_TKO_SPEED``
        while below ``MPC_LAND_ALT1`` above home (FlightTaskAuto)."""
        v = self.v
        m = v.motion
        p = (m.traj_pos[0], m.traj_pos[1], m.traj_pos[2])
        cruise = min(speed or self.cruise_speed_mps(), self._p("MPC_XY_VEL_MAX"))
        going_up = up > p[2]
        jerk = self._p("MPC_JERK_AUTO")
        tko = takeoff and going_up and m.up_m - v.home_up_m() < self._p("MPC_LAND_ALT1")
        if tko:
            vmax_z = min(self._p("MPC_TKO_SPEED"), self._p("MPC_Z_VEL_MAX_UP"))
            ramp_s = self._p("MPC_TKO_RAMP_T")
            acc_z = self._p("MPC_ACC_UP_MAX")
            if ramp_s > 0:
                acc_z = min(acc_z, self._p("MPC_TKO_SPEED") / ramp_s)
        elif going_up:
            vmax_z, acc_z = self._p("MPC_Z_V_AUTO_UP"), self._p("MPC_ACC_UP_MAX")
        else:
            vmax_z, acc_z = self._p("MPC_Z_V_AUTO_DN"), self._p("MPC_ACC_DOWN_MAX")
        radius = self._p("NAV_ACC_RAD") if radius_m is None else radius_m
        vn, ve, vu = self._target.compute(
            p,
            (m.traj_vel[0], m.traj_vel[1]),
            Triplet((north, east, up), previous, following, radius),
            XYLimits(cruise, self._p("MPC_ACC_HOR"), jerk, radius, self._p("MPC_XY_TRAJ_P")),
            ZLimits(vmax_z, acc_z, jerk, self._p("NAV_MC_ALT_RAD")),
        )
        self._takeoff_climb = tko
        self._up_accel = acc_z if going_up else None
        dn, de = north - m.north_m, east - m.east_m
        if heading is None and math.hypot(dn, de) > 2.0:  # MPC_YAW_MODE 0: face the target
            heading = math.degrees(math.atan2(de, dn)) % 360.0
        return Velocity(vn, ve, vu), heading

    # --- state entry -----------------------------------------------------------------------
    def enter(self, new: NavState, old: NavState) -> None:
        m = self.v.motion
        if new is not NavState.HOLD:
            self._move_speed = None
        if new in (NavState.HOLD, NavState.TAKEOFF, NavState.LAND, NavState.RTL) and new != old:
            # Loiter/Takeoff/Land/RTL on_activation: reset_cruising_speed()
            self._speed_override = None
        if new is NavState.HOLD:
            if old is not NavState.HOLD:  # PX4 keeps the loiter setpoint when already in Hold
                self.brake()
        elif new is NavState.TAKEOFF:
            self._takeoff_ne = (m.north_m, m.east_m)
        elif new is NavState.LAND:
            self._land_ne = (m.north_m, m.east_m)
        elif new is NavState.RTL:
            self._start_rtl()
        if (
            old is NavState.MISSION
            and new is not NavState.MISSION
            and self._state is MissionState.ACTIVE
        ):
            self._state = MissionState.PAUSED
        if new is NavState.MISSION:
            # Mission::on_activation: check_mission_valid(true), then replay the last speed
            self.check_mission_valid(forced=True)
            self._replay_speed()
            self._start_mission()
        if old is NavState.ORBIT and new is not NavState.ORBIT:
            self.orbit = None

    def brake(self) -> None:
        """Hold where braking at MPC_ACC_HOR from the current velocity ends."""
        self._hold = None
        self._hold_heading = None

    def _replay_speed(self) -> None:
        """MissionBase::on_activation: the last DO_CHANGE_SPEED before the current item."""
        self._speed_override = None
        for item in self.mission[: self._current]:
            if item.command == CMD_DO_CHANGE_SPEED:
                self._apply_change_speed(item.param2)

    def _apply_change_speed(self, speed_mps: float) -> None:
        """navigator_main.cpp DO_CHANGE_SPEED: param2 > 0 sets the cruise speed, anything
        else resets it to the default (MPC_XY_CRUISE); param1 (speed type) is ignored."""
        self.set_speed(speed_mps if math.isfinite(speed_mps) and speed_mps > 0 else None)

    def on_armed(self) -> None:
        if self.v.nav_state is NavState.MISSION:
            self._start_mission()

    def on_disarmed(self) -> None:
        self._hold = None
        self._move_speed = None
        self._speed_override = None

    def on_landed(self) -> None:
        v = self.v
        if v.nav_state is NavState.MISSION and self._current < len(self.mission):
            item = self.mission[self._current]
            if item.command == CMD_NAV_LAND:
                self._reached_and_advance()
        if v.nav_state is NavState.RTL:
            self._rtl_phase = RtlPhase.DONE

    # --- queries ---------------------------------------------------------------------------
    def is_taking_off(self) -> bool:
        v = self.v
        if v.nav_state is NavState.TAKEOFF:
            return True
        if v.nav_state is NavState.MISSION and self._state is MissionState.ACTIVE:
            if self._item_phase is ItemPhase.TAKEOFF:
                return True
            item = self._current_item()
            return item is not None and item.command == CMD_NAV_TAKEOFF
        return False

    def is_landing(self) -> bool:
        v = self.v
        if v.nav_state in (NavState.LAND, NavState.DESCEND):
            return True
        if v.nav_state is NavState.RTL:
            return self._rtl_phase is RtlPhase.LAND
        if v.nav_state is NavState.MISSION:
            return self._item_phase is ItemPhase.DESCEND
        return False

    # --- commands from the commander -------------------------------------------------------
    def reposition(
        self, north: float, east: float, up: float, speed: float | None, heading: float | None
    ) -> None:
        self._hold = (north, east, up)
        self._move_speed = speed
        self._hold_heading = heading

    def change_altitude(self, up: float) -> None:
        """Keep the current Hold point (or stop where braking ends) at a new altitude."""
        if self._hold is None:
            self._hold = self._braking_point()
        self._hold = (self._hold[0], self._hold[1], up)
        self._hold_heading = None

    def _braking_point(self) -> tuple[float, float, float]:
        m = self.v.motion
        acc = self._p("MPC_ACC_HOR")
        speed = m.ground_speed_mps
        stop = speed / (2 * acc) if speed > 0 else 0.0
        return (m.north_m + m.vn_mps * stop, m.east_m + m.ve_mps * stop, m.up_m)

    def geofence_allows(self, north: float, east: float, up: float) -> bool:
        """Navigator::geofence_allows_position: always with GF_ACTION none (0) or warn (1),
        else Geofence::checkPointAgainstAllGeofences on the loaded fence."""
        v = self.v
        if v.params.get_int("GF_ACTION") in (0, 1):
            return True
        return self._fence.allows(
            north,
            east,
            v.ground_alt_amsl_m + up - v.home.alt_amsl_m,
            home_ne=v.home_ne(),
            max_hor_dist_m=self._p("GF_MAX_HOR_DIST"),
            max_ver_dist_m=self._p("GF_MAX_VER_DIST"),
        )

    # --- mission feasibility (PX4 MissionBase::check_mission_valid) ------------------------
    def mission_runnable(self) -> bool:
        """The commander's ``!auto_mission_missing``: the last published result is valid
        and for a non-empty mission (HealthAndArmingChecks missionCheck.cpp)."""
        return self.result.valid and self.result.mission_id != 0

    def mission_finished(self) -> bool:
        return self._state is MissionState.COMPLETE

    def on_fence_uploaded(self, fence: Geofence, fence_id: int) -> None:
        """A new fence plan: PX4 reloads it from dataman (LOADING, then READY), and the
        mission must be checked again against it."""
        pending = self._fence_loading[1] if self._fence_loading else self._fence_id
        if fence_id == pending:
            return  # PX4 reloads the fence only when its id changes
        self._fence_loading = (fence, fence_id, time.monotonic() + FENCE_LOAD_S)
        self._mission_checked = False

    def update_real(self, now_real_s: float) -> None:
        """Per tick (real time): finish a fence load, then run a pending check."""
        loading = self._fence_loading
        if loading is not None and now_real_s >= loading[2]:
            self._fence, self._fence_id, _ = loading
            self._fence_loading = None
            logger.info("%s: geofence %08x ready", self.v.name, self._fence_id)
        if not self._mission_checked and self._fence_loading is None:
            self._mission_checked = True
            self.check_mission_valid()
            v = self.v
            if v.armed and v.nav_state is NavState.MISSION and not self.mission_runnable():
                v.commander.mission_cannot_run()

    def check_mission_valid(self, *, forced: bool = False) -> None:
        v = self.v
        if (
            not forced
            and self.result.mission_id == self.mission_id
            and self.result.fence_id == self._fence_id
        ):
            return
        feasibility = check_mission(
            self.mission,
            FeasibilityInput(
                home_alt_amsl_m=v.home.alt_amsl_m,
                home_ne=v.home_ne(),
                ground_alt_amsl_m=v.ground_alt_amsl_m,
                landed=not v.in_air(),
                fence=self._fence,
                to_ne=v.frame.to_ne,
                takeoff_land_req=v.params.get_int("MIS_TKO_LAND_REQ"),
                dist_1wp_m=self._p("MIS_DIST_1WP"),
                max_hor_dist_m=self._p("GF_MAX_HOR_DIST"),
                max_ver_dist_m=self._p("GF_MAX_VER_DIST"),
            ),
        )
        for finding in feasibility.findings:
            v.statustext(finding.severity, finding.text)
        self.result = MissionResult(feasibility.valid, self.mission_id, self._fence_id)
        logger.info(
            "%s: mission %08x checked against fence %08x: %s",
            v.name,
            self.mission_id,
            self._fence_id,
            "valid" if feasibility.valid else "invalid",
        )

    def set_orbit(
        self,
        center_ne: tuple[float, float],
        radius_m: float,
        direction: int,
        speed_mps: float,
        up_m: float,
        yaw_behaviour: int,
    ) -> None:
        self.orbit = Orbit(center_ne, radius_m, direction, speed_mps, up_m, yaw_behaviour)
        self._orbit_heading = self.v.motion.heading_deg

    # --- the step --------------------------------------------------------------------------
    def update(self, dt_s: float) -> tuple[Velocity, float | None]:
        """The velocity target and heading for this physics step; also hands the motion
        model PX4's current parameters and the flight task's constraints."""
        v = self.v
        m = v.motion
        m.dynamics = self.dynamics()
        self._takeoff_climb = False
        self._up_accel = None
        powered = v.armed and v.nav_state is not NavState.TERMINATION and not v.motor_failed
        target = self._update_state() if powered else (Velocity(), None)
        m.guidance = Guidance(
            armed=powered,
            landed=v.landed_state is LandedState.ON_GROUND,
            takeoff_climb=self._takeoff_climb,
            # FlightTaskAuto: the controller's limits leave 20 % above the auto speeds
            speed_up_mps=max(self._p("MPC_Z_VEL_MAX_UP"), 1.2 * self._p("MPC_Z_V_AUTO_UP")),
            speed_down_mps=max(self._p("MPC_Z_VEL_MAX_DN"), 1.2 * self._p("MPC_Z_V_AUTO_DN")),
            up_accel_mps2=self._up_accel,
            time_stretch=v.nav_state not in (NavState.ORBIT, NavState.DESCEND),
        )
        return target

    def _update_state(self) -> tuple[Velocity, float | None]:
        v = self.v
        m = v.motion
        state = v.nav_state
        if state is NavState.TAKEOFF:
            return self._update_takeoff()
        if state is NavState.LAND:
            ne = self._land_ne or (m.north_m, m.east_m)
            return self._descend_at(ne)
        if state is NavState.DESCEND:
            return Velocity(0.0, 0.0, -self._land_speed()), None
        if state is NavState.RTL:
            return self._update_rtl()
        if state is NavState.ORBIT and self.orbit is not None:
            return self._update_orbit()
        if state is NavState.MISSION:
            return self._update_mission()
        return self._update_hold()

    def _on_ground(self) -> bool:
        return self.v.motion.up_m <= 0.0

    def _update_hold(self) -> tuple[Velocity, float | None]:
        if self._on_ground() and self._hold is None:
            return Velocity(), None
        if self._hold is None:
            self._hold = self._braking_point()
        n, e, up = self._hold
        return self._fly_to(n, e, up, speed=self._move_speed, heading=self._hold_heading)

    def _update_takeoff(self) -> tuple[Velocity, float | None]:
        m = self.v.motion
        ne = self._takeoff_ne or (m.north_m, m.east_m)
        target = self.takeoff_target_up_m
        if abs(m.up_m - target) < 0.15:
            self.v.statustext(6, "Takeoff complete")
            self.v.commander.request_mode(NavState.HOLD, user=False)
            self._hold = (ne[0], ne[1], target)
            return self._fly_to(ne[0], ne[1], target, heading=m.heading_deg)
        return self._fly_to(ne[0], ne[1], target, takeoff=True, heading=m.heading_deg)

    def _land_speed(self) -> float:
        up = self.v.motion.up_m
        fast, slow = self._p("MPC_Z_V_AUTO_DN"), self._p("MPC_LAND_SPEED")
        alt1, alt2 = self._p("MPC_LAND_ALT1"), self._p("MPC_LAND_ALT2")
        if up >= alt1:
            return fast
        if up <= alt2 or alt1 <= alt2:
            return slow
        return slow + (fast - slow) * (up - alt2) / (alt1 - alt2)

    def _descend_at(self, ne: tuple[float, float]) -> tuple[Velocity, float | None]:
        m = self.v.motion
        vel, _ = self._fly_to(ne[0], ne[1], m.up_m)
        return Velocity(vel.north_mps, vel.east_mps, -self._land_speed()), m.heading_deg

    # --- RTL -------------------------------------------------------------------------------
    def _start_rtl(self) -> None:
        """RTL_TYPE 0: the closest of home and the rally points, straight, at the return
        altitude limited by the cone (RTL_CONE_ANG) but not below RTL_DESCEND_ALT."""
        v = self.v
        m = v.motion
        if not v.armed or self._on_ground():
            self._rtl_phase = RtlPhase.DONE
            return
        dest_ne, dest_up, dest_name = v.home_ne(), v.home_up_m(), "home"
        dist = math.hypot(m.north_m - dest_ne[0], m.east_m - dest_ne[1])
        for rally in v.transfer.plans[MissionType.RALLY]:
            ne = v.frame.to_ne(rally.lat_deg, rally.lon_deg)
            d = math.hypot(m.north_m - ne[0], m.east_m - ne[1])
            if d < dist:
                up = rally.alt_up_m(
                    ground_alt_amsl_m=v.ground_alt_amsl_m, home_alt_amsl_m=v.home.alt_amsl_m
                )
                dest_ne, dest_up, dest_name, dist = ne, max(0.0, up or 0.0), "rally point", d
        self._rtl_dest = (dest_ne[0], dest_ne[1], dest_up)
        self._rtl_dest_name = dest_name
        height = self._p("RTL_RETURN_ALT")
        cone_deg = self._p("RTL_CONE_ANG")
        if 0 < cone_deg < 90:
            height = min(height, dist / math.tan(math.radians(cone_deg)))
        return_up = dest_up + max(height, self._p("RTL_DESCEND_ALT"))
        if dist < self._p("RTL_MIN_DIST"):
            return_up = m.up_m
        self._rtl_up = max(m.up_m, return_up)
        self._rtl_phase = RtlPhase.CLIMB
        # rtl_direct.cpp: altitude AMSL and above the destination, whole metres
        v.statustext(
            6,
            f"RTL: start return at {round(v.ground_alt_amsl_m + self._rtl_up)} m "
            f"({round(self._rtl_up - dest_up)} m above destination)\t",
        )

    def _set_rtl_phase(self, phase: RtlPhase) -> None:
        logger.info("%s: RTL %s -> %s", self.v.name, self._rtl_phase, phase)
        self._rtl_phase = phase

    def _update_rtl(self) -> tuple[Velocity, float | None]:
        v = self.v
        m = v.motion
        hn, he, dest_up = self._rtl_dest
        phase = self._rtl_phase
        if phase is RtlPhase.DONE:
            return Velocity(), None
        if phase is RtlPhase.CLIMB:
            if m.up_m >= self._rtl_up - 0.5:
                self._set_rtl_phase(RtlPhase.RETURN)
            else:
                return self._fly_to(m.north_m, m.east_m, self._rtl_up, heading=m.heading_deg)
        if self._rtl_phase is RtlPhase.RETURN:
            if math.hypot(m.north_m - hn, m.east_m - he) < 1.0 and m.ground_speed_mps < 1.0:
                self._set_rtl_phase(RtlPhase.DESCEND)
            else:
                return self._fly_to(hn, he, self._rtl_up)
        loiter_up = dest_up + self._p("RTL_DESCEND_ALT")
        if self._rtl_phase is RtlPhase.DESCEND:
            if m.up_m <= loiter_up + 0.5:
                self._rtl_wait_until = v.time_s + self._p("RTL_LAND_DELAY")
                self._set_rtl_phase(RtlPhase.LOITER)
            else:
                return self._fly_to(hn, he, loiter_up)
        if self._rtl_phase is RtlPhase.LOITER:
            delay = self._p("RTL_LAND_DELAY")
            if delay < 0 or v.time_s < self._rtl_wait_until:
                return self._fly_to(hn, he, min(m.up_m, loiter_up))
            v.statustext(6, "RTL: land at destination\t")
            self._set_rtl_phase(RtlPhase.LAND)
        return self._descend_at((hn, he))

    # --- orbit -----------------------------------------------------------------------------
    def _update_orbit(self) -> tuple[Velocity, float | None]:
        o = self.orbit
        assert o is not None
        m = self.v.motion
        rn, re = m.north_m - o.center_ne[0], m.east_m - o.center_ne[1]
        dist = math.hypot(rn, re)
        if dist < 0.1:
            rn, re, dist = o.radius_m, 0.0, o.radius_m
            target_n, target_e = o.center_ne[0] + rn, o.center_ne[1]
            return self._fly_to(target_n, target_e, o.up_m)
        to_center = math.degrees(math.atan2(-re, -rn)) % 360.0
        error = dist - o.radius_m
        if abs(error) > 5.0:
            k = o.radius_m / dist
            return self._fly_to(o.center_ne[0] + rn * k, o.center_ne[1] + re * k, o.up_m)
        speed = min(
            o.speed_mps, self._p("MPC_XY_VEL_MAX"), math.sqrt(self._p("MPC_ACC_HOR") * o.radius_m)
        )
        tn, te = -re / dist * o.direction, rn / dist * o.direction
        corr = -error * 1.0
        vn = tn * speed + rn / dist * corr
        ve = te * speed + re / dist * corr
        vert, _ = self._fly_to(m.north_m, m.east_m, o.up_m)
        heading: float | None
        if o.yaw_behaviour == 0:
            heading = to_center
        elif o.yaw_behaviour in (1, 4):
            heading = self._orbit_heading
        elif o.yaw_behaviour == 3:
            heading = math.degrees(math.atan2(te, tn)) % 360.0
        else:
            heading = None
        return Velocity(vn, ve, vert.up_mps), heading

    def orbit_position(self) -> tuple[float, float]:
        """Where on the circle the vehicle is, for ORBIT_EXECUTION_STATUS."""
        o = self.orbit
        assert o is not None
        return o.center_ne

    # --- mission ---------------------------------------------------------------------------
    def set_mission(self, items: Sequence[MissionItem], mission_id: int) -> None:
        if mission_id != self.mission_id:
            # onMissionUpdate: checked at once if the fence is loaded (here: on the next
            # tick, as PX4's navigator sees the new mission on its next cycle), else later
            self._mission_checked = False
        self.mission = list(items)
        self.mission_id = mission_id
        self._current = 0
        for item in items:
            if item.current:
                self._current = item.seq
        self._state = MissionState.NOT_STARTED if items else MissionState.NO_MISSION
        self._jumps_done = {}
        self._item_phase = ItemPhase.FLY
        self._item_ne = None
        if self.v.nav_state is NavState.MISSION and items and self.v.armed:
            self._start_mission()
        self.v.send_all(MISSION_CURRENT)

    def seq_total(self) -> int:
        return len(self.mission)

    def set_current(self, seq: int) -> bool:
        if not 0 <= seq < len(self.mission):
            return False
        self._current = seq
        self._item_phase = ItemPhase.FLY
        self._item_ne = None
        if self._state is MissionState.COMPLETE:
            self._state = (
                MissionState.ACTIVE
                if self.v.nav_state is NavState.MISSION
                else MissionState.NOT_STARTED
            )
        self.v.send_all(MISSION_CURRENT)
        return True

    def mission_status(self) -> tuple[int, int, int, int]:
        """(seq, total, mission_state, mission_mode) for MISSION_CURRENT."""
        if not self.mission:
            return 0, UINT16_MAX, MissionState.NO_MISSION, 0
        in_mission = self.v.nav_state is NavState.MISSION
        mode = 1 if in_mission else (2 if self._state is MissionState.PAUSED else 0)
        seq = min(self._current, len(self.mission) - 1)
        return seq, len(self.mission), int(self._state), mode

    def _current_item(self) -> MissionItem | None:
        if 0 <= self._current < len(self.mission):
            return self.mission[self._current]
        return None

    def _start_mission(self) -> None:
        v = self.v
        if not self.mission:
            return
        if self._state is MissionState.COMPLETE:
            self._hold = None
            return
        was_active = self._state is MissionState.ACTIVE
        self._state = MissionState.ACTIVE if v.armed else MissionState.NOT_STARTED
        self._item_ne = None
        self._item_phase = ItemPhase.FLY
        self._item_prev = (v.motion.north_m, v.motion.east_m, v.motion.up_m)
        if v.armed:
            if not was_active:
                v.statustext(6, "Executing Mission\t")
            self._check_climb_required()
        v.send_all(MISSION_CURRENT)

    def _check_climb_required(self) -> None:
        """MissionBase::checkClimbRequired + Mission::handleTakeoff: if the next position
        item (a TAKEOFF counts) is more than NAV_MC_ALT_RAD above the vehicle, climb to its
        altitude first, straight up where the vehicle is."""
        v = self.v
        m = v.motion
        item = next(
            (i for i in self.mission[self._current :] if i.command in POSITION_COMMANDS), None
        )
        if item is None:
            return
        up = item.alt_up_m(ground_alt_amsl_m=v.ground_alt_amsl_m, home_alt_amsl_m=v.home.alt_amsl_m)
        if up is None or up - m.up_m <= self._p("NAV_MC_ALT_RAD"):
            return
        self._item_phase = ItemPhase.TAKEOFF
        self._climb_up_m = up
        self._climb_from_ground = not v.in_air()  # NAV_CMD_TAKEOFF if landed, else LOITER_TO_ALT
        self._takeoff_ne = (m.north_m, m.east_m)
        v.statustext(6, f"Climb to {up - v.home_up_m():.1f} meters above home\t")

    def _item_target(self, item: MissionItem) -> tuple[float, float, float]:
        v = self.v
        m = v.motion
        if self._item_ne is None:
            if item.has_position and item.command in POSITION_COMMANDS:
                self._item_ne = v.frame.to_ne(item.lat_deg, item.lon_deg)
            else:
                self._item_ne = (m.north_m, m.east_m)
        up = item.alt_up_m(ground_alt_amsl_m=v.ground_alt_amsl_m, home_alt_amsl_m=v.home.alt_amsl_m)
        if up is None or item.command == CMD_NAV_LAND:
            up = m.up_m
        return self._item_ne[0], self._item_ne[1], max(up, 0.5)

    def _following_point(self, index: int) -> tuple[float, float, float] | None:
        """The triplet's "next": the next position item when item ``index`` is flown
        through (a WAYPOINT without hold time, autocontinue), else None (stop there)."""
        v = self.v
        item = self.mission[index]
        if item.command != CMD_NAV_WAYPOINT or not item.autocontinue:
            return None
        if math.isfinite(item.param1) and item.param1 > 0:
            return None
        for nxt in self.mission[index + 1 :]:
            if nxt.command in POSITION_COMMANDS:
                up = nxt.alt_up_m(
                    ground_alt_amsl_m=v.ground_alt_amsl_m, home_alt_amsl_m=v.home.alt_amsl_m
                )
                if not nxt.has_position or up is None or nxt.command == CMD_NAV_LAND:
                    return None
                north, east = v.frame.to_ne(nxt.lat_deg, nxt.lon_deg)
                return north, east, max(up, 0.5)
            if nxt.command in (CMD_NAV_RETURN_TO_LAUNCH, CMD_DO_JUMP, CMD_NAV_DELAY):
                return None
        return None

    def acceptance_radius_m(self, item: MissionItem) -> float:
        if item.command == CMD_NAV_WAYPOINT and math.isfinite(item.param2) and item.param2 > 0:
            return item.param2
        return self._p("NAV_ACC_RAD")

    def _reached_and_advance(self) -> None:
        v = self.v
        seq = self._current
        v.mission_item_reached(seq)
        self._item_phase = ItemPhase.FLY
        self._item_ne = None
        if seq + 1 >= len(self.mission):
            self._state = MissionState.COMPLETE
            self._hold = None
            v.statustext(
                6, "Mission finished, loitering\t" if v.in_air() else "Mission finished, landed\t"
            )
        else:
            self._current = seq + 1
        v.send_all(MISSION_CURRENT)

    def _update_mission(self) -> tuple[Velocity, float | None]:
        v = self.v
        m = v.motion
        if self._state is not MissionState.ACTIVE:
            return self._update_hold()
        if self._item_phase is ItemPhase.TAKEOFF:
            ne = self._takeoff_ne or (m.north_m, m.east_m)
            target = self._climb_up_m
            climb_m = target - v.home_up_m()
            acceptance = (
                climb_m / 2 if climb_m < self._p("NAV_MC_ALT_RAD") else self._p("NAV_MC_ALT_RAD")
            )
            if m.up_m > target - acceptance:  # takeoff reached: altitude only
                self._item_phase = ItemPhase.FLY
                self._item_prev = (ne[0], ne[1], target)
            else:
                # the inserted CLIMB: a takeoff setpoint if it started on the ground
                return self._fly_to(
                    ne[0], ne[1], target, takeoff=self._climb_from_ground, heading=m.heading_deg
                )
        # several non-position items may complete in one step
        for _ in range(len(self.mission) + 1):
            item = self._current_item()
            if item is None or self._state is not MissionState.ACTIVE:
                return self._update_hold()
            cmd = item.command
            if cmd == CMD_DO_CHANGE_SPEED:
                self._apply_change_speed(item.param2)
                self._reached_and_advance()
                continue
            if cmd == CMD_NAV_RETURN_TO_LAUNCH:
                self._reached_and_advance()
                self._state = MissionState.COMPLETE
                v.commander.request_mode(NavState.RTL, user=False)
                return Velocity(), None
            if cmd == CMD_DO_JUMP:
                self._do_jump(item)
                continue
            if cmd in (CMD_NAV_DELAY, CMD_CONDITION_DELAY):
                return self._wait_here(item, item.param1)
            if cmd in POSITION_COMMANDS:
                return self._position_item(item)
            # DO_* and other non-navigation items: done at once
            self._reached_and_advance()
        return self._update_hold()

    def _do_jump(self, item: MissionItem) -> None:
        """DO_JUMP: go to item param1, param2 times (then carry on after the jump item)."""
        target = int(item.param1) if math.isfinite(item.param1) else -1
        repeats = int(item.param2) if math.isfinite(item.param2) else 0
        done = self._jumps_done.get(item.seq, 0)
        if 0 <= target < len(self.mission) and target != item.seq and done < repeats:
            self._jumps_done[item.seq] = done + 1
            self._current = target
            self._item_phase = ItemPhase.FLY
            self._item_ne = None
            self.v.send_all(MISSION_CURRENT)
            return
        self._reached_and_advance()

    def _wait_here(self, item: MissionItem, seconds: float) -> tuple[Velocity, float | None]:
        v = self.v
        m = v.motion
        if self._item_phase is not ItemPhase.WAIT:
            if not math.isfinite(seconds) or seconds < 0:
                self._reached_and_advance()
                return Velocity(), None
            self._item_phase = ItemPhase.WAIT
            self._wait_until = v.time_s + seconds
            self._item_ne = (m.north_m, m.east_m)
            self._hold = (m.north_m, m.east_m, m.up_m)
        if v.time_s >= self._wait_until:
            self._reached_and_advance()
            return Velocity(), None
        n, e, up = self._hold or (m.north_m, m.east_m, m.up_m)
        return self._fly_to(n, e, up)

    def _position_item(self, item: MissionItem) -> tuple[Velocity, float | None]:
        v = self.v
        m = v.motion
        n, e, up = self._item_target(item)
        cmd = item.command
        if self._item_phase is ItemPhase.DESCEND:
            return self._descend_at((n, e))
        if self._item_phase is ItemPhase.WAIT:
            if cmd == CMD_NAV_LOITER_UNLIM or v.time_s < self._wait_until:
                return self._fly_to(n, e, up)
            self._reached_and_advance()
            return self._fly_to(n, e, up)
        # after the inserted climb a TAKEOFF item is flown as a WAYPOINT at its own point
        # (Mission::handleTakeoff); MissionBlock::is_mission_item_reached_or_completed:
        # dist_xy <= R (item param2 if > 0, else NAV_ACC_RAD), dist_z <= NAV_MC_ALT_RAD
        radius = self.acceptance_radius_m(item)
        dist = math.hypot(n - m.north_m, e - m.east_m)
        alt_ok = abs(up - m.up_m) <= self._p("NAV_MC_ALT_RAD")
        previous = self._item_prev
        if cmd == CMD_NAV_LAND:
            if dist < 1.0:
                self._item_phase = ItemPhase.DESCEND
                return self._descend_at((n, e))
            return self._fly_to(n, e, up, previous=previous)
        following = self._following_point(self._current)
        if dist <= radius and alt_ok:
            hold_s = item.param1 if cmd in (CMD_NAV_WAYPOINT, CMD_NAV_LOITER_TIME) else 0.0
            if cmd == CMD_NAV_LOITER_UNLIM or (math.isfinite(hold_s) and hold_s > 0):
                self._item_phase = ItemPhase.WAIT
                self._wait_until = v.time_s + (hold_s if math.isfinite(hold_s) else 0.0)
                return self._fly_to(n, e, up)
            self._reached_and_advance()
            self._item_prev = (n, e, up)
        return self._fly_to(n, e, up, previous=previous, following=following, radius_m=radius)
