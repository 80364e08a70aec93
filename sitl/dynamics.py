"""What drives the motion model besides the velocity target: PX4's and SIH's parameters
(:class:`Dynamics`) and the navigator's per-step constraints (:class:`Guidance`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class _Params(Protocol):
    def get_float(self, name: str) -> float: ...


@dataclass(frozen=True, slots=True)
class Dynamics:
    """The PX4 and SIH parameters the motion model uses (defaults: PX4 main, SIH quad)."""

    acc_hor_mps2: float = 3.0  # MPC_ACC_HOR
    jerk_mps3: float = 4.0  # MPC_JERK_AUTO
    acc_up_mps2: float = 4.0  # MPC_ACC_UP_MAX
    acc_down_mps2: float = 3.0  # MPC_ACC_DOWN_MAX
    vel_xy_max_mps: float = 12.0  # MPC_XY_VEL_MAX
    vel_up_max_mps: float = 3.0  # MPC_Z_VEL_MAX_UP (caps the controller's upward setpoint)
    err_max_m: float = 2.0  # MPC_XY_ERR_MAX
    xy_p: float = 0.95  # MPC_XY_P
    xy_vel_p: float = 1.8  # MPC_XY_VEL_P_ACC
    xy_vel_i: float = 0.4  # MPC_XY_VEL_I_ACC
    xy_vel_d: float = 0.2  # MPC_XY_VEL_D_ACC
    z_p: float = 1.0  # MPC_Z_P
    z_vel_p: float = 4.0  # MPC_Z_VEL_P_ACC
    z_vel_i: float = 2.0  # MPC_Z_VEL_I_ACC
    tilt_max_deg: float = 45.0  # MPC_TILTMAX_AIR
    hover_thrust: float = 0.5  # MPC_THR_HOVER
    thr_min: float = 0.12  # MPC_THR_MIN
    drag_per_s: float = 1.0  # SIH_KDV / SIH_MASS
    yaw_rate_max_dps: float = 60.0  # MPC_YAWRAUTO_MAX
    yaw_acc_dps2: float = 20.0  # MPC_YAWRAUTO_ACC
    spoolup_s: float = 1.0  # COM_SPOOLUP_TIME
    tko_ramp_s: float = 3.0  # MPC_TKO_RAMP_T

    @classmethod
    def from_params(cls, p: _Params) -> Dynamics:
        mass = p.get_float("SIH_MASS")
        return cls(
            acc_hor_mps2=p.get_float("MPC_ACC_HOR"),
            jerk_mps3=p.get_float("MPC_JERK_AUTO"),
            acc_up_mps2=p.get_float("MPC_ACC_UP_MAX"),
            acc_down_mps2=p.get_float("MPC_ACC_DOWN_MAX"),
            vel_xy_max_mps=p.get_float("MPC_XY_VEL_MAX"),
            vel_up_max_mps=p.get_float("MPC_Z_VEL_MAX_UP"),
            err_max_m=p.get_float("MPC_XY_ERR_MAX"),
            xy_p=p.get_float("MPC_XY_P"),
            xy_vel_p=p.get_float("MPC_XY_VEL_P_ACC"),
            xy_vel_i=p.get_float("MPC_XY_VEL_I_ACC"),
            xy_vel_d=p.get_float("MPC_XY_VEL_D_ACC"),
            z_p=p.get_float("MPC_Z_P"),
            z_vel_p=p.get_float("MPC_Z_VEL_P_ACC"),
            z_vel_i=p.get_float("MPC_Z_VEL_I_ACC"),
            tilt_max_deg=p.get_float("MPC_TILTMAX_AIR"),
            hover_thrust=p.get_float("MPC_THR_HOVER"),
            thr_min=p.get_float("MPC_THR_MIN"),
            drag_per_s=p.get_float("SIH_KDV") / mass if mass > 0 else 0.0,
            yaw_rate_max_dps=p.get_float("MPC_YAWRAUTO_MAX"),
            yaw_acc_dps2=p.get_float("MPC_YAWRAUTO_ACC"),
            spoolup_s=p.get_float("COM_SPOOLUP_TIME"),
            tko_ramp_s=p.get_float("MPC_TKO_RAMP_T"),
        )


@dataclass(frozen=True, slots=True)
class Guidance:
    """Per-step inputs from the navigator besides the velocity target."""

    armed: bool = False  # motors may run (armed, not terminated, no motor failure)
    landed: bool = True  # the land detector's "landed"
    takeoff_climb: bool = False  # a takeoff setpoint below MPC_LAND_ALT1 (FlightTaskAuto)
    speed_up_mps: float = 3.6  # the flight task's upward constraint (the ramp's end value)
    speed_down_mps: float = 1.8
    up_accel_mps2: float | None = None  # the trajectory's upward acceleration, if not ACC_UP
    time_stretch: bool = True  # FlightTaskAuto's PositionSmoothing; not Orbit or Descend
