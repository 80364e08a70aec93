"""What the vehicle itself will fly: its autopilot's speed, climb and acceleration limits.

PX4 flies its own parameters, not the site file's figures: a mission's DO_CHANGE_SPEED
is capped by ``MPC_XY_VEL_MAX``, an automatic climb runs at ``MPC_Z_V_AUTO_UP``, a
descent at ``MPC_Z_V_AUTO_DN``, and the trajectory accelerates at ``MPC_ACC_HOR`` with
jerk ``MPC_JERK_AUTO``. The service reads these at connect (MAVSDK's param plugin) and
plans every ETA with what the vehicle will really do: the lower of the site's figure and
the vehicle's limit (:func:`flown_performance`). Where the two disagree the drone is
shown with the difference (:func:`disagreements`), so a pilot sees why a plan is slower
than the site promises.

Pure: no MAVSDK here; the link fills a :class:`VehicleLimits` from the parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: a link worker imports this without the site model
    from dfr.site import DronePerformance


@dataclass(frozen=True, slots=True)
class VehicleLimits:
    """PX4 multicopter parameters that shape a flight's time (PX4 main defaults)."""

    xy_cruise_mps: float = 5.0  # MPC_XY_CRUISE: auto speed when a mission sets none
    xy_vel_max_mps: float = 12.0  # MPC_XY_VEL_MAX: caps every auto speed
    z_up_mps: float = 3.0  # MPC_Z_V_AUTO_UP: automatic climb (mission, takeoff, RTL)
    z_down_mps: float = 1.5  # MPC_Z_V_AUTO_DN: automatic descent
    takeoff_mps: float = 1.5  # MPC_TKO_SPEED: a takeoff below MPC_LAND_ALT1
    tko_ramp_s: float = 3.0  # MPC_TKO_RAMP_T: thrust ramp before lift-off
    spoolup_s: float = 1.0  # COM_SPOOLUP_TIME: idle after arming
    acc_hor_mps2: float = 3.0  # MPC_ACC_HOR: auto horizontal acceleration
    acc_up_mps2: float = 4.0  # MPC_ACC_UP_MAX
    jerk_mps3: float = 4.0  # MPC_JERK_AUTO
    xy_traj_p: float = 0.5  # MPC_XY_TRAJ_P: corner speed gain
    land_mps: float = 0.7  # MPC_LAND_SPEED: below MPC_LAND_ALT2
    land_alt1_m: float = 10.0  # MPC_LAND_ALT1: slow takeoff below, slower descent from here
    land_alt2_m: float = 5.0  # MPC_LAND_ALT2: MPC_LAND_SPEED below here
    # not a parameter: the acceptance radius dfr's missions give every waypoint (item
    # param2, which overrides NAV_ACC_RAD)
    acceptance_radius_m: float = 10.0
    # PX4's SIH simulator publishes its airframe (SIH_MASS, SIH_KDV) as parameters: at the
    # tilt limit MPC_TILTMAX_AIR its linear drag caps the speed at g·tan(tilt)·m/kdv. A real
    # vehicle has no such parameter (inf): there the site's figure must be right.
    airframe_top_speed_mps: float = math.inf

    @classmethod
    def from_params(cls, params: dict[str, float]) -> VehicleLimits:
        """From PX4 parameter values by name; a missing or non-finite one keeps PX4's default."""
        values: dict[str, float] = {}
        for f in fields(cls):
            name = PARAMS.get(f.name)
            value = params.get(name) if name else None
            if value is not None and math.isfinite(value) and value > 0:
                values[f.name] = float(value)
        mass, kdv = params.get("SIH_MASS"), params.get("SIH_KDV")
        tilt = params.get("MPC_TILTMAX_AIR", 45.0)
        if mass and kdv and mass > 0 and kdv > 0 and 0 < tilt < 90:
            values["airframe_top_speed_mps"] = (
                STANDARD_GRAVITY * math.tan(math.radians(tilt)) * mass / kdv
            )
        return cls(**values)

    @property
    def cruise_cap_mps(self) -> float:
        """The fastest the vehicle will fly a mission leg."""
        return min(self.xy_vel_max_mps, self.airframe_top_speed_mps * SIH_TOP_SPEED_SHARE)


STANDARD_GRAVITY = 9.80665
SIH_TOP_SPEED_SHARE = 0.99  # seen on PX4 SIH: 9.70-9.76 m/s plateau for a 9.81 m/s top speed
# field -> PX4 parameter
PARAMS: dict[str, str] = {
    "xy_cruise_mps": "MPC_XY_CRUISE",
    "xy_vel_max_mps": "MPC_XY_VEL_MAX",
    "z_up_mps": "MPC_Z_V_AUTO_UP",
    "z_down_mps": "MPC_Z_V_AUTO_DN",
    "takeoff_mps": "MPC_TKO_SPEED",
    "tko_ramp_s": "MPC_TKO_RAMP_T",
    "spoolup_s": "COM_SPOOLUP_TIME",
    "acc_hor_mps2": "MPC_ACC_HOR",
    "acc_up_mps2": "MPC_ACC_UP_MAX",
    "jerk_mps3": "MPC_JERK_AUTO",
    "xy_traj_p": "MPC_XY_TRAJ_P",
    "land_mps": "MPC_LAND_SPEED",
    "land_alt1_m": "MPC_LAND_ALT1",
    "land_alt2_m": "MPC_LAND_ALT2",
}
# read too, for the airframe's top speed (PX4 SIH only)
EXTRA_PARAMS = ("MPC_TILTMAX_AIR", "SIH_MASS", "SIH_KDV")


def flown_performance(site: DronePerformance, limits: VehicleLimits | None) -> DronePerformance:
    """The site's airframe figures, lowered to what the vehicle's parameters allow."""
    if limits is None:
        return site
    cap = limits.cruise_cap_mps
    cruise = min(site.cruise_speed_mps, cap)
    return site.model_copy(
        update={
            "cruise_speed_mps": cruise,
            "max_speed_mps": max(cruise, min(site.max_speed_mps, cap)),
            "climb_speed_mps": min(site.climb_speed_mps, limits.z_up_mps),
            "descent_speed_mps": min(site.descent_speed_mps, limits.z_down_mps),
        }
    )


def disagreements(site: DronePerformance, limits: VehicleLimits) -> list[str]:
    """Where the vehicle will fly slower than the site says, in words a pilot can act on."""
    notes: list[str] = []
    cap_name = (
        "MPC_XY_VEL_MAX"
        if limits.cruise_cap_mps >= limits.xy_vel_max_mps
        else "airframe top speed (SIH_KDV, SIH_MASS, MPC_TILTMAX_AIR)"
    )
    checks = (
        ("cruise_speed_mps", site.cruise_speed_mps, cap_name, limits.cruise_cap_mps),
        ("climb_speed_mps", site.climb_speed_mps, "MPC_Z_V_AUTO_UP", limits.z_up_mps),
        ("descent_speed_mps", site.descent_speed_mps, "MPC_Z_V_AUTO_DN", limits.z_down_mps),
    )
    for field_name, site_value, param, vehicle_value in checks:
        if vehicle_value < site_value - 1e-6:
            notes.append(
                f"site {field_name} {site_value:g} but the vehicle's {param} is "
                f"{vehicle_value:.3g}: planning with {vehicle_value:.3g}"
            )
    return notes
