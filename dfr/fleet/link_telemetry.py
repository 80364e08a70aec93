"""What a drone's telemetry streams (mavsdk 4.x) change in its :class:`DroneState`.

Each fold takes the state as it is and one item of one stream and returns a
:class:`Fold` (the fields that change, and whether the new state is handed on at once)
or ``None`` when nothing changed; :class:`~dfr.fleet.link.DroneLink` applies them.
:data:`STREAMS` names the streams and their folds; :func:`read_limits` reads the
vehicle's own speed and climb parameters once per connection.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from mavsdk.asyncio.plugins.param import ParamAsync
from mavsdk.asyncio.plugins.telemetry import TelemetryAsync
from mavsdk.exceptions import MavsdkError

from dfr.fleet.drone_state import DroneState, LandedState
from dfr.planning.vehicle_limits import EXTRA_PARAMS, VehicleLimits
from dfr.planning.vehicle_limits import PARAMS as LIMIT_PARAMS

logger = logging.getLogger(__name__)

_LANDED = {
    0: LandedState.UNKNOWN,
    1: LandedState.ON_GROUND,
    2: LandedState.IN_AIR,
    3: LandedState.TAKING_OFF,
    4: LandedState.LANDING,
}


@dataclass(frozen=True, slots=True)
class Fold:
    changes: dict[str, Any]
    publish: bool = True  # False: the value rides along with the next published state


def _finite_or(value: float, default: float) -> float:
    return value if math.isfinite(value) else default


def position(_state: DroneState, p: Any) -> Fold:
    return Fold(
        {
            "lat_deg": p.latitude_deg,
            "lon_deg": p.longitude_deg,
            "alt_amsl_m": p.absolute_altitude_m,
            "alt_rel_m": p.relative_altitude_m,
        }
    )


def home(_state: DroneState, h: Any) -> Fold:
    return Fold(
        {
            "home_lat_deg": h.latitude_deg,
            "home_lon_deg": h.longitude_deg,
            "home_alt_amsl_m": h.absolute_altitude_m,
        },
        publish=False,
    )


def armed(state: DroneState, is_armed: bool) -> Fold | None:
    return Fold({"armed": is_armed}) if is_armed != state.armed else None


def landed(state: DroneState, value: Any) -> Fold | None:
    now = _LANDED.get(int(value), LandedState.UNKNOWN)
    return Fold({"landed": now}) if now is not state.landed else None


def mode(state: DroneState, value: Any) -> Fold | None:
    name = getattr(value, "name", str(value)).lower()
    return Fold({"mode": name}) if name != state.mode else None


def battery(state: DroneState, b: Any) -> Fold:
    return Fold(
        {
            "battery_pct": _finite_or(b.remaining_percent, state.battery_pct),
            "battery_v": _finite_or(b.voltage_v, state.battery_v),
        },
        publish=False,
    )


def health(state: DroneState, h: Any) -> Fold | None:
    ok = bool(
        h.is_gyrometer_calibration_ok
        and h.is_accelerometer_calibration_ok
        and h.is_magnetometer_calibration_ok
        and h.is_local_position_ok
        and h.is_global_position_ok
        and h.is_home_position_ok
    )
    armable = bool(h.is_armable)
    if ok == state.health_ok and armable == state.armable:
        return None
    return Fold({"health_ok": ok, "armable": armable})


def velocity(_state: DroneState, v: Any) -> Fold:
    return Fold(
        {
            "ground_speed_mps": math.hypot(v.north_m_s, v.east_m_s),
            "climb_rate_mps": -v.down_m_s,
        },
        publish=False,
    )


def heading(_state: DroneState, h: Any) -> Fold:
    return Fold({"heading_deg": h.heading_deg}, publish=False)


FoldOf = Callable[[DroneState, Any], Fold | None]
# (name, the stream, its fold): one named task per stream while the link is up
STREAMS: tuple[tuple[str, Callable[[TelemetryAsync], AsyncIterator[Any]], FoldOf], ...] = (
    ("position", TelemetryAsync.subscribe_position, position),
    ("home", TelemetryAsync.subscribe_home, home),
    ("armed", TelemetryAsync.subscribe_armed, armed),
    ("landed", TelemetryAsync.subscribe_landed_state, landed),
    ("mode", TelemetryAsync.subscribe_flight_mode, mode),
    ("battery", TelemetryAsync.subscribe_battery, battery),
    ("health", TelemetryAsync.subscribe_health, health),
    ("velocity", TelemetryAsync.subscribe_velocity_ned, velocity),
    ("heading", TelemetryAsync.subscribe_heading, heading),
)


async def read_limits(drone_id: str, param: ParamAsync) -> VehicleLimits:
    """The vehicle's own speed/climb/acceleration parameters (what PX4 will fly)."""
    values: dict[str, float] = {}
    missing: list[str] = []
    for name in LIMIT_PARAMS.values():
        try:
            values[name] = float(await param.get_param_float(name))
        except MavsdkError:
            missing.append(name)
    for name in EXTRA_PARAMS:  # present on PX4's SIH simulator only
        with contextlib.suppress(MavsdkError):
            values[name] = float(await param.get_param_float(name))
    limits = VehicleLimits.from_params(values)
    if missing:
        logger.warning(
            "%s: vehicle did not give %s; planning with PX4's defaults for them",
            drone_id,
            ", ".join(missing),
        )
    logger.info(
        "%s: vehicle limits: cruise %g, max %g m/s, climb %g, descent %g m/s, acc %g m/s²",
        drone_id,
        limits.xy_cruise_mps,
        limits.xy_vel_max_mps,
        limits.z_up_mps,
        limits.z_down_mps,
        limits.acc_hor_mps2,
    )
    return limits
