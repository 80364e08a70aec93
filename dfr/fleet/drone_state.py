"""What the service knows about one drone at one moment, folded from its telemetry."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LinkState(StrEnum):
    CONNECTING = "connecting"  # no vehicle heard yet on this link
    UP = "up"  # heartbeats arriving
    LOST = "lost"  # heartbeats stopped; the vehicle's own failsafe is expected to act
    CLOSED = "closed"  # the service stopped the link


class LandedState(StrEnum):
    UNKNOWN = "unknown"
    ON_GROUND = "on_ground"
    TAKING_OFF = "taking_off"
    IN_AIR = "in_air"
    LANDING = "landing"


NAN = math.nan
AIRBORNE_ALT_M = 3.0  # above home: a land detector's "takeoff" on the pad is not a flight
AIRBORNE_MODES = frozenset({"takeoff", "mission"})


@dataclass(frozen=True, slots=True)
class DroneState:
    drone_id: str
    link: LinkState
    updated_at: datetime | None = None
    lat_deg: float = NAN
    lon_deg: float = NAN
    alt_amsl_m: float = NAN
    alt_rel_m: float = NAN  # above home (the dock)
    heading_deg: float = NAN
    ground_speed_mps: float = NAN
    climb_rate_mps: float = NAN
    battery_pct: float = NAN
    battery_v: float = NAN
    mode: str = "unknown"  # MAVSDK flight mode name, lower case (hold, mission, return_to_launch …)
    armed: bool = False
    landed: LandedState = LandedState.UNKNOWN
    health_ok: bool = False
    armable: bool = False
    home_lat_deg: float = NAN
    home_lon_deg: float = NAN
    home_alt_amsl_m: float = NAN
    status_text: str = ""

    @property
    def has_position(self) -> bool:
        return math.isfinite(self.lat_deg) and math.isfinite(self.lon_deg)

    @property
    def on_ground(self) -> bool:
        return self.landed is LandedState.ON_GROUND and not self.armed


def airborne(state: DroneState) -> bool:
    """The vehicle really took off: armed, in air, climbing away from the pad in a launch
    mode. PX4's land detector alone can say "Takeoff detected" on the pad and "Landing
    detected" a second later."""
    return (
        state.armed
        and state.landed is LandedState.IN_AIR
        and state.mode in AIRBORNE_MODES
        and state.alt_rel_m > AIRBORNE_ALT_M
    )


def shows_state(state: DroneState) -> bool:
    """The link is up and the vehicle has said how it is (after a connect or a restart the
    state starts unknown: not a landing, not a disarm)."""
    return (
        state.link is LinkState.UP
        and state.landed is not LandedState.UNKNOWN
        and state.mode != "unknown"
        and state.has_position
    )
