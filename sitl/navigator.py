"""PX4 Navigator, simulated: what the vehicle flies in each nav state.

Takeoff (climb at ``MPC_TKO_SPEED`` to the target, then Hold), Hold (brake and
stay, or fly to a DO_REPOSITION point and stay), Land (``MPC_Z_V_AUTO_DN`` above
``MPC_LAND_ALT1``, ``MPC_LAND_SPEED`` below ``MPC_LAND_ALT2``), Descend (no position:
straight down), RTL (:mod:`sitl.rtl`), Orbit (:mod:`sitl.orbit`) and Mission
(:mod:`sitl.mission_flight`). Horizontal speed is ``MPC_XY_CRUISE`` unless
DO_CHANGE_SPEED or the reposition speed says otherwise, capped by ``MPC_XY_VEL_MAX``.

Mission feasibility is :mod:`sitl.mission_check`: the navigator publishes a mission result
that the commander reads to decide whether Mission mode may run. A DO_REPOSITION or
DO_CHANGE_ALTITUDE target the fence does not allow is refused ("Reposition is outside
geofence", ``navigator_main.cpp``) and the vehicle brakes and holds instead.

The navigator is the :class:`~sitl.pilot.Pilot` of its flight modes, and asks the
commander for mode changes through a :class:`~sitl.pilot.ModeSwitch`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from sitl.geofence import Geofence
from sitl.mission_check import MissionCheck, MissionResult
from sitl.mission_flight import MissionFlight
from sitl.mission_item import MissionItem
from sitl.modes import LandedState, NavState
from sitl.motion import Dynamics, Guidance, Velocity
from sitl.orbit import Orbit, orbit_setpoint
from sitl.outbox import Outbox
from sitl.pilot import ModeSwitch, Setpoint
from sitl.rtl import ReturnToLaunch, RtlPhase
from sitl.state import VehicleState
from sitl.trajectory import Triplet, VelocityTarget, XYLimits, ZLimits

logger = logging.getLogger(__name__)


class Navigator:
    def __init__(self, state: VehicleState, out: Outbox, modes: ModeSwitch) -> None:
        self.s = state
        self.out = out
        self.modes = modes
        self.takeoff_target_up_m = 2.5
        self.orbit: Orbit | None = None
        self.hold: tuple[float, float, float] | None = None  # the Hold point (n, e, up)
        self._takeoff_ne: tuple[float, float] | None = None
        self._hold_heading: float | None = None
        self._move_speed: float | None = None  # reposition speed for the current Hold move
        self._speed_override: float | None = None
        self._land_ne: tuple[float, float] | None = None
        self._orbit_heading: float | None = None
        self._target = VelocityTarget()
        self._params_version = -1
        self._params_cache: dict[str, float] = {}
        self._dynamics: Dynamics | None = None
        self._takeoff_climb = False
        self._up_accel: float | None = None
        self.rtl = ReturnToLaunch(state, out, self)
        self.mission_flight = MissionFlight(state, out, self, modes)
        self.checks = MissionCheck(state, out, self.param)

    # --- speeds ----------------------------------------------------------------------------
    def param(self, name: str) -> float:
        """A parameter, cached until the table changes (read ~50 times per physics step)."""
        params = self.s.params
        if params.version != self._params_version:
            self._params_version = params.version
            self._params_cache.clear()
            self._dynamics = None
        value = self._params_cache.get(name)
        if value is None:
            value = self._params_cache[name] = params.get_float(name)
        return value

    def dynamics(self) -> Dynamics:
        self.param("MPC_ACC_HOR")  # refreshes the cache if the parameters changed
        if self._dynamics is None:
            self._dynamics = Dynamics.from_params(self.s.params)
        return self._dynamics

    def cruise_speed_mps(self) -> float:
        speed = self._speed_override or self.param("MPC_XY_CRUISE")
        return max(0.1, min(speed, self.param("MPC_XY_VEL_MAX")))

    def set_speed(self, speed_mps: float | None) -> None:
        self._speed_override = speed_mps
        if self._move_speed is not None and speed_mps is not None:
            self._move_speed = speed_mps

    def fly_to(
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
    ) -> Setpoint:
        """PX4's velocity target towards a position setpoint (:mod:`sitl.trajectory`).

        ``previous``/``following``: the triplet's previous and next points (None: a single
        setpoint to stop at); ``takeoff``: a takeoff setpoint, flown at ``MPC_TKO_SPEED``
        while below ``MPC_LAND_ALT1`` above home (FlightTaskAuto)."""
        s = self.s
        m = s.motion
        p = (m.traj_pos[0], m.traj_pos[1], m.traj_pos[2])
        cruise = min(speed or self.cruise_speed_mps(), self.param("MPC_XY_VEL_MAX"))
        going_up = up > p[2]
        jerk = self.param("MPC_JERK_AUTO")
        tko = takeoff and going_up and m.up_m - s.home_up_m() < self.param("MPC_LAND_ALT1")
        if tko:
            vmax_z = min(self.param("MPC_TKO_SPEED"), self.param("MPC_Z_VEL_MAX_UP"))
            ramp_s = self.param("MPC_TKO_RAMP_T")
            acc_z = self.param("MPC_ACC_UP_MAX")
            if ramp_s > 0:
                acc_z = min(acc_z, self.param("MPC_TKO_SPEED") / ramp_s)
        elif going_up:
            vmax_z, acc_z = self.param("MPC_Z_V_AUTO_UP"), self.param("MPC_ACC_UP_MAX")
        else:
            vmax_z, acc_z = self.param("MPC_Z_V_AUTO_DN"), self.param("MPC_ACC_DOWN_MAX")
        radius = self.param("NAV_ACC_RAD") if radius_m is None else radius_m
        vn, ve, vu = self._target.compute(
            p,
            (m.traj_vel[0], m.traj_vel[1]),
            Triplet((north, east, up), previous, following, radius),
            XYLimits(cruise, self.param("MPC_ACC_HOR"), jerk, radius, self.param("MPC_XY_TRAJ_P")),
            ZLimits(vmax_z, acc_z, jerk, self.param("NAV_MC_ALT_RAD")),
        )
        self._takeoff_climb = tko
        self._up_accel = acc_z if going_up else None
        dn, de = north - m.north_m, east - m.east_m
        if heading is None and math.hypot(dn, de) > 2.0:  # MPC_YAW_MODE 0: face the target
            heading = math.degrees(math.atan2(de, dn)) % 360.0
        return Velocity(vn, ve, vu), heading

    # --- state entry -----------------------------------------------------------------------
    def enter(self, new: NavState, old: NavState) -> None:
        m = self.s.motion
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
            self.rtl.start()
        if old is NavState.MISSION and new is not NavState.MISSION:
            self.mission_flight.on_leave()
        if new is NavState.MISSION:
            # Mission::on_activation: check_mission_valid(true), then replay the last speed
            self.check_mission_valid(forced=True)
            self.mission_flight.replay_speed()
            self.mission_flight.start()
        if old is NavState.ORBIT and new is not NavState.ORBIT:
            self.orbit = None

    def brake(self) -> None:
        """Hold where braking at MPC_ACC_HOR from the current velocity ends."""
        self.hold = None
        self._hold_heading = None

    def on_armed(self) -> None:
        if self.s.nav_state is NavState.MISSION:
            self.mission_flight.start()

    def on_disarmed(self) -> None:
        self.hold = None
        self._move_speed = None
        self._speed_override = None

    def on_landed(self) -> None:
        s = self.s
        if s.nav_state is NavState.MISSION:
            self.mission_flight.on_landed()
        if s.nav_state is NavState.RTL:
            self.rtl.phase = RtlPhase.DONE

    # --- queries ---------------------------------------------------------------------------
    def is_taking_off(self) -> bool:
        s = self.s
        if s.nav_state is NavState.TAKEOFF:
            return True
        if s.nav_state is NavState.MISSION:
            return self.mission_flight.is_taking_off()
        return False

    def is_landing(self) -> bool:
        s = self.s
        if s.nav_state in (NavState.LAND, NavState.DESCEND):
            return True
        if s.nav_state is NavState.RTL:
            return self.rtl.phase is RtlPhase.LAND
        if s.nav_state is NavState.MISSION:
            return self.mission_flight.is_landing()
        return False

    # --- commands from the commander -------------------------------------------------------
    def reposition(
        self, north: float, east: float, up: float, speed: float | None, heading: float | None
    ) -> None:
        self.hold = (north, east, up)
        self._move_speed = speed
        self._hold_heading = heading

    def change_altitude(self, up: float) -> None:
        """Keep the current Hold point (or stop where braking ends) at a new altitude."""
        if self.hold is None:
            self.hold = self._braking_point()
        self.hold = (self.hold[0], self.hold[1], up)
        self._hold_heading = None

    def _braking_point(self) -> tuple[float, float, float]:
        m = self.s.motion
        acc = self.param("MPC_ACC_HOR")
        speed = m.ground_speed_mps
        stop = speed / (2 * acc) if speed > 0 else 0.0
        return (m.north_m + m.vn_mps * stop, m.east_m + m.ve_mps * stop, m.up_m)

    def geofence_allows(self, north: float, east: float, up: float) -> bool:
        return self.checks.geofence_allows(north, east, up)

    def set_orbit(self, orbit: Orbit) -> None:
        self.orbit = orbit
        self._orbit_heading = self.s.motion.heading_deg

    # --- the mission and its feasibility ---------------------------------------------------
    @property
    def mission(self) -> list[MissionItem]:
        return self.mission_flight.items

    @property
    def mission_id(self) -> int:
        return self.mission_flight.mission_id

    @property
    def result(self) -> MissionResult:
        return self.checks.result

    def mission_runnable(self) -> bool:
        return self.checks.runnable()

    def mission_finished(self) -> bool:
        return self.mission_flight.finished()

    def set_mission(self, items: Sequence[MissionItem], mission_id: int) -> None:
        if mission_id != self.mission_flight.mission_id:
            self.checks.mission_changed()
        self.mission_flight.set_items(items, mission_id)

    def seq_total(self) -> int:
        return self.mission_flight.seq_total()

    def set_current(self, seq: int) -> bool:
        return self.mission_flight.set_current(seq)

    def mission_status(self) -> tuple[int, int, int, int]:
        """(seq, total, mission_state, mission_mode) for MISSION_CURRENT."""
        return self.mission_flight.status()

    def on_fence_uploaded(self, fence: Geofence, fence_id: int) -> None:
        self.checks.on_fence_uploaded(fence, fence_id)

    def check_mission_valid(self, *, forced: bool = False) -> None:
        self.checks.check(self.mission, self.mission_id, forced=forced)

    def update_real(self, now_real_s: float) -> None:
        """Per tick (real time): finish a fence load, then run a pending check."""
        if self.checks.update_real(now_real_s, self.mission, self.mission_id):
            s = self.s
            if s.armed and s.nav_state is NavState.MISSION and not self.mission_runnable():
                self.modes.mission_cannot_run()

    # --- the step --------------------------------------------------------------------------
    def update(self, dt_s: float) -> Setpoint:
        """The velocity target and heading for this physics step; also hands the motion
        model PX4's current parameters and the flight task's constraints."""
        s = self.s
        m = s.motion
        m.dynamics = self.dynamics()
        self._takeoff_climb = False
        self._up_accel = None
        powered = s.armed and s.nav_state is not NavState.TERMINATION and not s.motor_failed
        target = self._update_state() if powered else (Velocity(), None)
        m.guidance = Guidance(
            armed=powered,
            landed=s.landed_state is LandedState.ON_GROUND,
            takeoff_climb=self._takeoff_climb,
            # FlightTaskAuto: the controller's limits leave 20 % above the auto speeds
            speed_up_mps=max(self.param("MPC_Z_VEL_MAX_UP"), 1.2 * self.param("MPC_Z_V_AUTO_UP")),
            speed_down_mps=max(self.param("MPC_Z_VEL_MAX_DN"), 1.2 * self.param("MPC_Z_V_AUTO_DN")),
            up_accel_mps2=self._up_accel,
            time_stretch=s.nav_state not in (NavState.ORBIT, NavState.DESCEND),
        )
        return target

    def _update_state(self) -> Setpoint:
        s = self.s
        m = s.motion
        state = s.nav_state
        if state is NavState.TAKEOFF:
            return self._update_takeoff()
        if state is NavState.LAND:
            ne = self._land_ne or (m.north_m, m.east_m)
            return self.descend_at(ne)
        if state is NavState.DESCEND:
            return Velocity(0.0, 0.0, -self._land_speed()), None
        if state is NavState.RTL:
            return self.rtl.update()
        if state is NavState.ORBIT and self.orbit is not None:
            return orbit_setpoint(self.orbit, m, self, self._orbit_heading)
        if state is NavState.MISSION:
            return self.mission_flight.update()
        return self.hold_position()

    def hold_position(self) -> Setpoint:
        if self.s.motion.up_m <= 0.0 and self.hold is None:
            return Velocity(), None
        if self.hold is None:
            self.hold = self._braking_point()
        n, e, up = self.hold
        return self.fly_to(n, e, up, speed=self._move_speed, heading=self._hold_heading)

    def _update_takeoff(self) -> Setpoint:
        m = self.s.motion
        ne = self._takeoff_ne or (m.north_m, m.east_m)
        target = self.takeoff_target_up_m
        if abs(m.up_m - target) < 0.15:
            self.out.statustext(6, "Takeoff complete")
            self.modes.request_mode(NavState.HOLD, user=False)
            self.hold = (ne[0], ne[1], target)
            return self.fly_to(ne[0], ne[1], target, heading=m.heading_deg)
        return self.fly_to(ne[0], ne[1], target, takeoff=True, heading=m.heading_deg)

    def _land_speed(self) -> float:
        up = self.s.motion.up_m
        fast, slow = self.param("MPC_Z_V_AUTO_DN"), self.param("MPC_LAND_SPEED")
        alt1, alt2 = self.param("MPC_LAND_ALT1"), self.param("MPC_LAND_ALT2")
        if up >= alt1:
            return fast
        if up <= alt2 or alt1 <= alt2:
            return slow
        return slow + (fast - slow) * (up - alt2) / (alt1 - alt2)

    def descend_at(self, ne: tuple[float, float]) -> Setpoint:
        m = self.s.motion
        vel, _ = self.fly_to(ne[0], ne[1], m.up_m)
        return Velocity(vel.north_mps, vel.east_mps, -self._land_speed()), m.heading_deg
