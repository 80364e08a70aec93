"""Multicopter motion as PX4 SITL (SIH) produces it: trajectory, controller, airframe physics.

The navigator computes the *unsmoothed* velocity target of PX4's trajectory generator
(:mod:`sitl.trajectory`). :class:`Motion` then does, per physics step (vehicle time),
what PX4 and its SIH simulator do, from PX4 main 02e73e3:

1. **Trajectory** (``lib/motion_planning/PositionSmoothing.cpp``, ``VelocitySmoothing``):
   a jerk-limited (``MPC_JERK_AUTO``) and acceleration-limited (``MPC_ACC_HOR``;
   ``MPC_ACC_UP_MAX``/``MPC_ACC_DOWN_MAX``, ``MPC_TKO_SPEED``/``MPC_TKO_RAMP_T`` on a takeoff
   below ``MPC_LAND_ALT1``) velocity profile towards the target, integrated into a
   trajectory position. Its clock is stretched by ``1 - err/MPC_XY_ERR_MAX`` while the
   vehicle lags it. Simplification: the horizontal profile is one 2D vector profile
   (PX4: one profile per axis, time-synchronised).
2. **Position and velocity control** (``mc_pos_control/PositionControl/PositionControl.cpp``):
   P on position (``MPC_XY_P``, ``MPC_Z_P``), PID on velocity (``MPC_XY_VEL_*_ACC``,
   ``MPC_Z_VEL_*_ACC``) with PX4's anti-windup, tilt limit (``MPC_TILTMAX_AIR``; 12° before
   flight) and thrust limits with vertical priority.
3. **Takeoff** (``mc_pos_control/Takeoff/Takeoff.cpp``): spool-up ``COM_SPOOLUP_TIME``
   after arming with no thrust, then a ramp of the upward velocity limit from
   ``-g/MPC_Z_VEL_P_ACC`` over ``MPC_TKO_RAMP_T``; integrators held at zero before it, and
   the trajectory restarted on the ground at 0.7 m/s downwards every cycle
   (``FlightModeManager`` + ``FlightTaskAuto::reActivate``).
4. **Airframe** (``simulation/simulator_sih/sih.cpp``, quadrotor): a point mass
   ``SIH_MASS`` with thrust along the commanded attitude (reached after ``TILT_LAG_S``,
   ``THRUST_LAG_S``: attitude loop and motors), gravity and linear drag
   ``SIH_KDV`` against the air (so against the wind), held by the ground. With the SIH
   defaults (1 kg, 1 N/(m/s)) and the 45° tilt limit the top speed is g·tan 45°/1 ≈ 9.8
   m/s whatever ``MPC_XY_VEL_MAX`` says, as real PX4 SITL flies it.
5. **Heading**: slewed at ``MPC_YAWRAUTO_MAX`` with ``MPC_YAWRAUTO_ACC``.

The hover thrust is taken as known (PX4's estimator has converged), so thrust
``MPC_THR_HOVER`` balances gravity exactly. The parameters and the navigator's per-step
constraints are :mod:`sitl.dynamics`; the air mass is :mod:`sitl.wind`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

from sitl.dynamics import Dynamics, Guidance
from sitl.wind import Wind, WindField

__all__ = ["Dynamics", "Guidance", "Motion", "TakeoffState", "Velocity", "Wind", "WindField"]

GRAVITY_MPS2 = 9.81
TILT_LANDED_DEG = 12.0  # MPC_TILTMAX_LND
THR_XY_MARGIN = 0.3  # MPC_THR_XY_MARG
THR_MAX = 1.0  # MPC_THR_MAX
# the airframe's response to the controller's output: tilting the thrust takes the
# attitude loop (MC_ROLL_P/MC_PITCH_P 6.5 /s, ~0.15 s) plus the motors (SIH_T_TAU 0.05 s);
# collective thrust follows the motors alone
TILT_LAG_S = 0.2
THRUST_LAG_S = 0.05


@dataclass(frozen=True, slots=True)
class Velocity:
    north_mps: float = 0.0
    east_mps: float = 0.0
    up_mps: float = 0.0


class TakeoffState(StrEnum):
    """mc_pos_control/Takeoff/Takeoff.hpp TakeoffState."""

    DISARMED = "disarmed"
    SPOOLUP = "spoolup"
    READY = "ready_for_takeoff"
    RAMPUP = "rampup"
    FLIGHT = "flight"


def _toward(current: float, target: float, step: float) -> float:
    if target > current:
        return min(target, current + step)
    return max(target, current - step)


def _allocate_thrust(
    fn: float, fe: float, lift: float, hover_thrust: float, thr_min: float
) -> tuple[float, float, float, float]:
    """The wanted specific force (``fn``, ``fe`` horizontal, ``lift`` vertical, m/s²) as
    collective thrust: at least ``thr_min`` along the attitude, vertical priority keeping a
    horizontal margin. Returns the force produced (north, east, up) and the thrust."""
    hover = max(hover_thrust, 0.01)
    to_thrust = hover / GRAVITY_MPS2
    f_xy = math.hypot(fn, fe)
    dir_n, dir_e = (fn / f_xy, fe / f_xy) if f_xy > 1e-9 else (0.0, 0.0)
    thr_z = lift * to_thrust
    thr_xy = f_xy * to_thrust
    collective = math.hypot(thr_z, thr_xy)
    if collective < thr_min:  # minimum collective thrust, along the attitude
        if collective > 1e-9 and thr_z > 0:
            thr_z, thr_xy = thr_z * thr_min / collective, thr_xy * thr_min / collective
        else:
            thr_z, thr_xy = thr_min, 0.0
    # vertical priority keeping a horizontal margin, then what is left for horizontal
    thr_z = max(0.0, min(thr_z, math.sqrt(THR_MAX**2 - min(thr_xy, THR_XY_MARGIN) ** 2)))
    thr_xy = min(thr_xy, math.sqrt(max(THR_MAX**2 - thr_z**2, 0.0)))
    fn, fe = dir_n * thr_xy / to_thrust, dir_e * thr_xy / to_thrust
    return fn, fe, thr_z / to_thrust, math.hypot(thr_z, thr_xy)


class Motion:
    """Position, velocity and the PX4 control state of one vehicle (local frame, metres)."""

    __slots__ = (
        "_armed_for_s",
        "_force",
        "_int_e",
        "_int_n",
        "_int_u",
        "_prev_acc",
        "_ramp",
        "dynamics",
        "east_m",
        "guidance",
        "heading_deg",
        "north_m",
        "pitch_rad",
        "roll_rad",
        "takeoff_state",
        "thrust",
        "traj_acc",
        "traj_pos",
        "traj_vel",
        "up_m",
        "ve_mps",
        "vn_mps",
        "vu_mps",
        "yaw_rate_dps",
    )

    def __init__(self, *, max_air_mps: float = 12.0) -> None:
        self.north_m = 0.0
        self.east_m = 0.0
        self.up_m = 0.0  # above the vehicle's ground (= home ground) level
        self.vn_mps = 0.0
        self.ve_mps = 0.0
        self.vu_mps = 0.0
        self.heading_deg = 0.0
        self.yaw_rate_dps = 0.0
        self.roll_rad = 0.0
        self.pitch_rad = 0.0
        self.thrust = 0.0  # collective thrust setpoint, 0..1 (the land detector reads it)
        self.dynamics = Dynamics(vel_xy_max_mps=max_air_mps)
        self.guidance = Guidance()
        self.takeoff_state = TakeoffState.DISARMED
        self.traj_pos = [0.0, 0.0, 0.0]  # trajectory north, east, up
        self.traj_vel = [0.0, 0.0, 0.0]
        self.traj_acc = [0.0, 0.0, 0.0]
        self._int_n = self._int_e = self._int_u = 0.0  # velocity integrators, m/s²
        self._prev_acc = (0.0, 0.0)
        self._force = [0.0, 0.0, 0.0]  # the specific force the airframe produces, m/s²
        self._armed_for_s = 0.0
        self._ramp = 0.0  # takeoff ramp progress 0..1

    @property
    def max_air_mps(self) -> float:
        """MPC_XY_VEL_MAX as the controller applies it (sitl.vehicle sets it on PARAM_SET;
        the navigator refreshes all of :attr:`dynamics` from the parameters every step)."""
        return self.dynamics.vel_xy_max_mps

    @max_air_mps.setter
    def max_air_mps(self, value: float) -> None:
        self.dynamics = replace(self.dynamics, vel_xy_max_mps=value)

    @property
    def ground_speed_mps(self) -> float:
        return math.hypot(self.vn_mps, self.ve_mps)

    @property
    def traj_ne(self) -> tuple[float, float]:
        return self.traj_pos[0], self.traj_pos[1]

    def stop(self) -> None:
        self.vn_mps = self.ve_mps = self.vu_mps = 0.0
        self.reset_trajectory()

    def reset_trajectory(self) -> None:
        """Start the trajectory afresh from the vehicle's state (a new flight task)."""
        self.traj_pos = [self.north_m, self.east_m, self.up_m]
        self.traj_vel = [self.vn_mps, self.ve_mps, self.vu_mps]
        self.traj_acc = [0.0, 0.0, 0.0]

    # --- the step ------------------------------------------------------------------------
    def step(
        self,
        dt_s: float,
        desired: Velocity,
        wind_ne: tuple[float, float],
        heading_target_deg: float | None,
    ) -> None:
        """Advance ``dt_s`` seconds of vehicle time towards the velocity target."""
        if dt_s <= 0:
            return
        g = self.guidance
        upward_limit = self._update_takeoff(dt_s, desired, g)
        if not g.armed or self.takeoff_state is TakeoffState.DISARMED:
            self.reset_trajectory()
        elif self.takeoff_state in (TakeoffState.SPOOLUP, TakeoffState.READY):
            # FlightModeManager: before the ramp the task is re-activated every cycle, and
            # FlightTaskAuto::reActivate starts the trajectory on the ground sinking 0.7 m/s
            self.reset_trajectory()
            self.traj_vel = [0.0, 0.0, -0.7]
        else:
            self._smooth(dt_s, desired, g)
        fn, fe, fu = self._control(dt_s, upward_limit, g)
        self._physics(dt_s, fn, fe, fu, wind_ne)
        self._yaw(dt_s, heading_target_deg)
        yaw = math.radians(self.heading_deg)
        fwd = fn * math.cos(yaw) + fe * math.sin(yaw)
        right = -fn * math.sin(yaw) + fe * math.cos(yaw)
        up_force = max(fu, 0.1)
        airborne = self.up_m > 0.0
        self.pitch_rad = -math.atan2(fwd, up_force) if airborne else 0.0
        self.roll_rad = math.atan2(right, up_force) if airborne else 0.0

    def _update_takeoff(self, dt_s: float, desired: Velocity, g: Guidance) -> float:
        """TakeoffHandling::updateTakeoffState + updateRamp: the upward velocity limit."""
        d = self.dynamics
        if not g.armed:
            self.takeoff_state = TakeoffState.DISARMED
            self._armed_for_s = 0.0
            return -GRAVITY_MPS2 / max(d.z_vel_p, 0.01)
        self._armed_for_s += dt_s
        state = self.takeoff_state
        if state is TakeoffState.DISARMED:
            state = TakeoffState.SPOOLUP
        if state is TakeoffState.SPOOLUP and self._armed_for_s >= d.spoolup_s:
            state = TakeoffState.READY
        if state is TakeoffState.READY and desired.up_mps > 0.3:  # FlightTask _checkTakeoff
            state = TakeoffState.RAMPUP
            self._ramp = 0.0
        if state is TakeoffState.RAMPUP and self._ramp >= 1.0:
            state = TakeoffState.FLIGHT
        if state is TakeoffState.FLIGHT and g.landed and self.up_m <= 0.0:
            state = TakeoffState.READY
        if not g.landed and state is not TakeoffState.FLIGHT and self.up_m > 0.5:
            state = TakeoffState.FLIGHT  # armed in the air (skip_takeoff)
        self.takeoff_state = state
        init = -GRAVITY_MPS2 / max(d.z_vel_p, 0.01)
        if state in (TakeoffState.SPOOLUP, TakeoffState.READY):
            return init
        if state is TakeoffState.RAMPUP:
            self._ramp = min(1.0, self._ramp + dt_s / d.tko_ramp_s) if d.tko_ramp_s > dt_s else 1.0
            if self._ramp < 1.0:
                return init + self._ramp * (g.speed_up_mps - init)
        return g.speed_up_mps

    def _smooth(self, dt_s: float, desired: Velocity, g: Guidance) -> None:
        """The trajectory: jerk/acceleration-limited velocity towards the target."""
        d = self.dynamics
        pos, vel, acc = self.traj_pos, self.traj_vel, self.traj_acc
        # time stretch while the vehicle is behind the trajectory (PositionSmoothing)
        en, ee = pos[0] - self.north_m, pos[1] - self.east_m
        err = math.hypot(en, ee)
        stretch = 1.0
        if g.time_stretch and d.err_max_m > 0 and en * vel[0] + ee * vel[1] >= 0:
            stretch = 1.0 - min(max(err / d.err_max_m, 0.0), 1.0)
        t = dt_s * stretch
        jerk = d.jerk_mps3
        going_up = desired.up_mps > 0.0
        if going_up:
            a_up = g.up_accel_mps2 if g.up_accel_mps2 is not None else d.acc_up_mps2
        else:
            a_up = d.acc_down_mps2
        dvn, dve = desired.north_mps - vel[0], desired.east_mps - vel[1]
        dv = math.hypot(dvn, dve)
        dvu = desired.up_mps - vel[2]
        # VelocitySmoothing::timeSynchronization: the quicker profile is stretched to last
        # as long as the slower one (here by lowering its acceleration)
        a_xy = d.acc_hor_mps2
        t_xy = dv / a_xy + a_xy / jerk if dv > 1e-6 else 0.0
        t_u = abs(dvu) / a_up + a_up / jerk if abs(dvu) > 1e-6 else 0.0
        if t_u < t_xy:
            a_up = min(a_up, abs(dvu) / max(t_xy - a_up / jerk, 1e-3))
        elif t_xy < t_u:
            a_xy = min(a_xy, dv / max(t_u - a_xy / jerk, 1e-3))
        # horizontal: one 2D profile
        want = min(a_xy, math.sqrt(2.0 * jerk * dv)) if dv > 1e-6 else 0.0
        wan, wae = (dvn / dv * want, dve / dv * want) if dv > 1e-6 else (0.0, 0.0)
        can, cae = wan - acc[0], wae - acc[1]
        change = math.hypot(can, cae)
        if change > jerk * t > 0:
            can, cae = can * jerk * t / change, cae * jerk * t / change
        acc[0] += can
        acc[1] += cae
        step_n, step_e = acc[0] * t, acc[1] * t
        if step_n * step_n + step_e * step_e >= dv * dv:  # reaches the target this step
            vel[0], vel[1] = desired.north_mps, desired.east_mps
            acc[0] = acc[1] = 0.0
        else:
            vel[0] += step_n
            vel[1] += step_e
        # vertical
        want_u = math.copysign(min(a_up, math.sqrt(2.0 * jerk * abs(dvu))), dvu)
        acc[2] = _toward(acc[2], want_u, jerk * t)
        if abs(acc[2] * t) >= abs(dvu):
            vel[2], acc[2] = desired.up_mps, 0.0
        else:
            vel[2] += acc[2] * t
        pos[0] += vel[0] * t
        pos[1] += vel[1] * t
        pos[2] += vel[2] * t
        if g.takeoff_climb:
            pos[2] = self.up_m  # FlightTaskAuto: forceSetPosition(z) during the takeoff climb

    def _control(self, dt_s: float, upward_limit: float, g: Guidance) -> tuple[float, float, float]:
        """PositionControl: the specific force (thrust/mass) the vehicle produces, m/s²."""
        d = self.dynamics
        state = self.takeoff_state
        if not g.armed or state in (
            TakeoffState.DISARMED,
            TakeoffState.SPOOLUP,
            TakeoffState.READY,
        ):
            # not taken off: no corrections, no thrust, integrators reset
            self._int_n = self._int_e = self._int_u = 0.0
            self.thrust = 0.0
            return 0.0, 0.0, 0.0
        pos, vel, acc = self.traj_pos, self.traj_vel, self.traj_acc
        flying = state is TakeoffState.FLIGHT
        # position P -> velocity setpoint, constrained
        vsp_n = vel[0] + d.xy_p * (pos[0] - self.north_m)
        vsp_e = vel[1] + d.xy_p * (pos[1] - self.east_m)
        vsp_u = vel[2] + d.z_p * (pos[2] - self.up_m)
        norm = math.hypot(vsp_n, vsp_e)
        if norm > d.vel_xy_max_mps > 0:
            vsp_n, vsp_e = vsp_n * d.vel_xy_max_mps / norm, vsp_e * d.vel_xy_max_mps / norm
        # MulticopterPositionControl: up to min(takeoff ramp, MPC_Z_VEL_MAX_UP), so a climb
        # at that speed cannot make up a position lag
        vsp_u = min(max(vsp_u, -g.speed_down_mps), upward_limit, d.vel_up_max_mps)
        # velocity PID -> acceleration setpoint
        en, ee, eu = vsp_n - self.vn_mps, vsp_e - self.ve_mps, vsp_u - self.vu_mps
        ff_u = 0.0 if state is TakeoffState.RAMPUP else acc[2]
        asp_n = acc[0] + d.xy_vel_p * en + self._int_n - d.xy_vel_d * self._prev_acc[0]
        asp_e = acc[1] + d.xy_vel_p * ee + self._int_e - d.xy_vel_d * self._prev_acc[1]
        asp_u = ff_u + d.z_vel_p * eu + self._int_u
        # attitude from the acceleration, tilt limit, collective thrust
        lift = GRAVITY_MPS2 + asp_u  # vertical specific force wanted
        tilt_deg = d.tilt_max_deg if flying else min(d.tilt_max_deg, TILT_LANDED_DEG)
        hor = math.hypot(asp_n, asp_e)
        max_hor = max(lift, 0.0) * math.tan(math.radians(tilt_deg))
        scale = max_hor / hor if hor > max_hor and hor > 0 else 1.0
        thr_min = d.thr_min if flying else 0.0
        fn, fe, fu, self.thrust = _allocate_thrust(
            asp_n * scale, asp_e * scale, lift, d.hover_thrust, thr_min
        )
        # integrators: vertical anti-windup at the thrust limits, horizontal tracking ARW
        if (self.thrust <= thr_min + 1e-9 and eu <= 0.0) or (self.thrust >= THR_MAX and eu >= 0):
            eu = 0.0
        if asp_n * asp_n + asp_e * asp_e > fn * fn + fe * fe:
            arw = 2.0 / d.xy_vel_p if d.xy_vel_p > 0 else 0.0
            en -= arw * (asp_n - fn)
            ee -= arw * (asp_e - fe)
        self._int_n += d.xy_vel_i * en * dt_s
        self._int_e += d.xy_vel_i * ee * dt_s
        self._int_u = min(max(self._int_u + d.z_vel_i * eu * dt_s, -GRAVITY_MPS2), GRAVITY_MPS2)
        return fn, fe, fu

    def _physics(
        self, dt_s: float, fn: float, fe: float, fu: float, wind_ne: tuple[float, float]
    ) -> None:
        """SIH quadrotor: thrust + gravity + linear drag against the air; a ground."""
        k = self.dynamics.drag_per_s
        force = self._force
        tilt = min(dt_s / TILT_LAG_S, 1.0)
        lift = min(dt_s / THRUST_LAG_S, 1.0)
        force[0] += (fn - force[0]) * tilt
        force[1] += (fe - force[1]) * tilt
        force[2] += (fu - force[2]) * lift
        an = force[0] - k * (self.vn_mps - wind_ne[0])
        ae = force[1] - k * (self.ve_mps - wind_ne[1])
        au = force[2] - GRAVITY_MPS2 - k * self.vu_mps
        if self.up_m <= 0.0 and au <= 0.0:  # on the ground: it holds the vehicle
            self.vn_mps = self.ve_mps = self.vu_mps = 0.0
            self.up_m = 0.0
            self._prev_acc = (0.0, 0.0)
            return
        self.vn_mps += an * dt_s
        self.ve_mps += ae * dt_s
        self.vu_mps += au * dt_s
        self.north_m += self.vn_mps * dt_s
        self.east_m += self.ve_mps * dt_s
        self.up_m += self.vu_mps * dt_s
        self._prev_acc = (an, ae)
        if self.up_m <= 0.0:
            self.up_m = 0.0
            self.vu_mps = max(0.0, self.vu_mps)

    def _yaw(self, dt_s: float, heading_target_deg: float | None) -> None:
        """Heading slewed with a rate and an acceleration limit."""
        d = self.dynamics
        if heading_target_deg is None or self.up_m <= 0.0:
            self.yaw_rate_dps = 0.0
            return
        diff = (heading_target_deg - self.heading_deg + 540.0) % 360.0 - 180.0
        want = math.copysign(
            min(d.yaw_rate_max_dps, math.sqrt(2.0 * d.yaw_acc_dps2 * abs(diff))), diff
        )
        self.yaw_rate_dps = _toward(self.yaw_rate_dps, want, d.yaw_acc_dps2 * dt_s)
        turn = self.yaw_rate_dps * dt_s
        if abs(turn) >= abs(diff):
            turn, self.yaw_rate_dps = diff, 0.0
        self.heading_deg = (self.heading_deg + turn) % 360.0
