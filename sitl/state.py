"""The mutable state of one simulated vehicle, which its behaviour modules share.

:class:`VehicleState` holds what the commander, navigator, failsafes, telemetry and the
mission protocol read and change: position and velocity (its :class:`~sitl.motion.Motion`),
arming, nav and landed state, injected failures, home, vehicle time, the battery and the
stored mission/fence/rally plans with their ids. It only holds state and answers questions
about it; behaviour lives in the modules that take it. It imports only leaf modules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sitl.battery import Battery
from sitl.frame import LocalFrame
from sitl.mission_item import MissionItem, MissionType
from sitl.modes import LandedState, NavState
from sitl.motion import Motion
from sitl.params import ParamStore

# the plan types a vehicle stores, in the order MISSION_CLEAR_ALL (type ALL) clears them
PLAN_TYPES = (MissionType.MISSION, MissionType.FENCE, MissionType.RALLY)


@dataclass(frozen=True, slots=True)
class Home:
    lat_deg: float
    lon_deg: float
    alt_amsl_m: float


def _empty_plans() -> dict[MissionType, list[MissionItem]]:
    return {t: [] for t in PLAN_TYPES}


def _no_plan_ids() -> dict[MissionType, int]:
    return {t: 0 for t in PLAN_TYPES}


@dataclass(frozen=True, slots=True)
class VehicleSnapshot:
    """What the fleet's users read of a vehicle (:meth:`sitl.vehicle.Vehicle.snapshot`)."""

    lat_deg: float
    lon_deg: float
    alt_amsl_m: float
    alt_rel_m: float  # above home
    ground_speed_mps: float
    heading_deg: float
    armed: bool
    nav_state: NavState
    landed_state: LandedState
    battery_remaining_pct: float
    failsafe: bool


@dataclass(slots=True, eq=False)
class VehicleState:
    """One vehicle's state. ``time_s`` is vehicle time (see :mod:`sitl.vehicle`)."""

    name: str
    sysid: int
    params: ParamStore
    frame: LocalFrame
    ground_alt_amsl_m: float  # the local frame's origin: up_m 0 is this altitude
    home: Home
    motion: Motion
    battery: Battery
    wind_ne: tuple[float, float] = (0.0, 0.0)
    armed: bool = False
    nav_state: NavState = NavState.HOLD
    landed_state: LandedState = LandedState.ON_GROUND
    gps_failed: bool = False
    motor_failed: bool = False
    time_s: float = 0.0
    # the stored plans and their opaque ids (CRC32 of the items, 0 when empty)
    plans: dict[MissionType, list[MissionItem]] = field(default_factory=_empty_plans)
    plan_ids: dict[MissionType, int] = field(default_factory=_no_plan_ids)

    # --- derived state ---------------------------------------------------------------------
    def lat_lon(self) -> tuple[float, float]:
        return self.frame.to_lat_lon(self.motion.north_m, self.motion.east_m)

    def alt_amsl_m(self) -> float:
        return self.ground_alt_amsl_m + self.motion.up_m

    def alt_rel_m(self) -> float:
        return self.alt_amsl_m() - self.home.alt_amsl_m

    def home_up_m(self) -> float:
        """Home altitude in the local frame (metres above the origin's ground)."""
        return self.home.alt_amsl_m - self.ground_alt_amsl_m

    def home_ne(self) -> tuple[float, float]:
        return self.frame.to_ne(self.home.lat_deg, self.home.lon_deg)

    def course_deg(self) -> float:
        m = self.motion
        if m.ground_speed_mps < 0.1:
            return m.heading_deg
        return math.degrees(math.atan2(m.ve_mps, m.vn_mps)) % 360.0

    def boot_ms(self) -> int:
        """Time since boot on the vehicle's clock: with a speed factor it runs that much
        faster, as PX4 SITL's lockstep clock does (PX4_SIM_SPEED_FACTOR)."""
        return int(self.time_s * 1000)

    def boot_us(self) -> int:
        return int(self.time_s * 1e6)

    def in_air(self) -> bool:
        return self.landed_state in (LandedState.IN_AIR, LandedState.TAKEOFF, LandedState.LANDING)
