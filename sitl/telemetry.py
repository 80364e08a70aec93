"""Telemetry messages: their ids and how each is built from a vehicle's state.

An encoder takes a :class:`Telemetry` (the vehicle's state plus the few answers its
commander and navigator give: pre-arm check, battery warning, system status, mission
status, orbit) and a pymavlink codec, and returns the message or None (nothing to send).
:mod:`sitl.streams` decides when each goes out.
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Callable
from typing import Any, Protocol

from sitl.battery import MAV_BATTERY_CHARGE_STATE, WarningLevel
from sitl.link import Extended
from sitl.mission_item import MissionType
from sitl.modes import MAV_LANDED_STATE, NavState, base_mode, custom_mode
from sitl.orbit import Orbit
from sitl.state import VehicleState

# message ids
HEARTBEAT = 0
SYS_STATUS = 1
SYSTEM_TIME = 2
GPS_RAW_INT = 24
ATTITUDE = 30
ATTITUDE_QUATERNION = 31
LOCAL_POSITION_NED = 32
GLOBAL_POSITION_INT = 33
MISSION_CURRENT = 42
GPS_GLOBAL_ORIGIN = 49
VFR_HUD = 74
ALTITUDE = 141
BATTERY_STATUS = 147
AUTOPILOT_VERSION = 148
HOME_POSITION = 242
EXTENDED_SYS_STATE = 245
ORBIT_EXECUTION_STATUS = 360


class Telemetry(Protocol):
    """What the encoders read: the state, and what the commander and navigator report."""

    @property
    def state(self) -> VehicleState: ...

    @property
    def orbit(self) -> Orbit | None: ...

    def system_status(self) -> int: ...

    def prearm_ok(self) -> bool: ...

    def battery_warning(self) -> WarningLevel: ...

    def mission_status(self) -> tuple[int, int, int, int]:
        """(seq, total, mission_state, mission_mode) for MISSION_CURRENT."""
        ...


# SYS_STATUS sensor bits (MAV_SYS_STATUS_SENSOR)
SENSOR_GYRO = 1
SENSOR_ACCEL = 2
SENSOR_MAG = 4
SENSOR_ABS_PRESSURE = 8
SENSOR_GPS = 32
SENSOR_ANGULAR_RATE = 1024
SENSOR_ATTITUDE = 2048
SENSOR_YAW = 4096
SENSOR_Z_ALT = 8192
SENSOR_XY_POS = 16384
SENSOR_MOTOR_OUTPUTS = 32768
SENSOR_AHRS = 0x200000
SENSOR_BATTERY = 0x2000000
SENSOR_PREARM_CHECK = 0x10000000
SENSOR_EXTENSION_USED = 0x80000000
SENSORS_PRESENT = (
    SENSOR_GYRO
    | SENSOR_ACCEL
    | SENSOR_MAG
    | SENSOR_ABS_PRESSURE
    | SENSOR_GPS
    | SENSOR_ANGULAR_RATE
    | SENSOR_ATTITUDE
    | SENSOR_YAW
    | SENSOR_Z_ALT
    | SENSOR_XY_POS
    | SENSOR_MOTOR_OUTPUTS
    | SENSOR_AHRS
    | SENSOR_BATTERY
    | SENSOR_PREARM_CHECK
    | SENSOR_EXTENSION_USED
)

MAV_PROTOCOL_CAPABILITY = (
    1  # MISSION_FLOAT
    | 4  # MISSION_INT
    | 2  # PARAM_FLOAT
    | 8  # COMMAND_INT
    | 128  # SET_ATTITUDE_TARGET
    | 256  # SET_POSITION_TARGET_LOCAL_NED
    | 8192  # MAVLINK2
    | 16384  # MISSION_FENCE
    | 32768  # MISSION_RALLY
)
FLIGHT_SW_VERSION = (1 << 24) | (17 << 16) | (0 << 8) | 0  # 1.17.0 dev (PX4 main)


def _i32(value: float) -> int:
    return max(-(2**31), min(2**31 - 1, round(value)))


def _quaternion(roll: float, pitch: float, yaw: float) -> tuple[float, float, float, float]:
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (
        cr * cp * cy + sr * sp * sy,
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
    )


def heartbeat(t: Telemetry, mav: Any) -> Any:
    s = t.state
    return mav.heartbeat_encode(
        2, 12, base_mode(s.nav_state, s.armed), custom_mode(s.nav_state), t.system_status(), 3
    )


def sys_status(t: Telemetry, mav: Any) -> Any:
    s = t.state
    health = SENSORS_PRESENT
    if not t.prearm_ok():
        health &= ~SENSOR_PREARM_CHECK
    if s.gps_failed:
        health &= ~(SENSOR_GPS | SENSOR_XY_POS)
    if s.motor_failed:
        health &= ~SENSOR_MOTOR_OUTPUTS
    b = s.battery
    return mav.sys_status_encode(
        SENSORS_PRESENT,
        SENSORS_PRESENT,
        health,
        250,
        int(b.voltage_v * 1000) & 0xFFFF,
        min(32767, int(b.current_a * 100)),
        round(b.remaining_pct),
        0,
        0,
        0,
        0,
        0,
        0,
    )


def system_time(t: Telemetry, mav: Any) -> Any:
    s = t.state
    return mav.system_time_encode(int(time.time() * 1e6), s.boot_ms() & 0xFFFFFFFF)


def gps_raw_int(t: Telemetry, mav: Any) -> Any:
    s = t.state
    lat, lon = s.lat_lon()
    if s.gps_failed:
        return mav.gps_raw_int_encode(s.boot_us(), 0, 0, 0, 0, 65535, 65535, 65535, 65535, 0)
    return mav.gps_raw_int_encode(
        s.boot_us(),
        3,
        _i32(lat * 1e7),
        _i32(lon * 1e7),
        _i32(s.alt_amsl_m() * 1000),
        70,
        110,
        int(s.motion.ground_speed_mps * 100),
        int(s.course_deg() * 100) % 36000,
        10,
    )


def attitude(t: Telemetry, mav: Any) -> Any:
    s = t.state
    m = s.motion
    yaw = math.radians(m.heading_deg)
    yaw = yaw - 2 * math.pi if yaw > math.pi else yaw
    return mav.attitude_encode(s.boot_ms(), m.roll_rad, m.pitch_rad, yaw, 0.0, 0.0, 0.0)


def attitude_quaternion(t: Telemetry, mav: Any) -> Any:
    s = t.state
    m = s.motion
    q = _quaternion(m.roll_rad, m.pitch_rad, math.radians(m.heading_deg))
    return mav.attitude_quaternion_encode(s.boot_ms(), q[0], q[1], q[2], q[3], 0.0, 0.0, 0.0)


def local_position_ned(t: Telemetry, mav: Any) -> Any:
    s = t.state
    m = s.motion
    return mav.local_position_ned_encode(
        s.boot_ms(), m.north_m, m.east_m, -m.up_m, m.vn_mps, m.ve_mps, -m.vu_mps
    )


def global_position_int(t: Telemetry, mav: Any) -> Any:
    s = t.state
    m = s.motion
    lat, lon = s.lat_lon()
    return mav.global_position_int_encode(
        s.boot_ms(),
        _i32(lat * 1e7),
        _i32(lon * 1e7),
        _i32(s.alt_amsl_m() * 1000),
        _i32(s.alt_rel_m() * 1000),
        int(m.vn_mps * 100),
        int(m.ve_mps * 100),
        int(-m.vu_mps * 100),
        int(m.heading_deg * 100) % 36000,
    )


def mission_current(t: Telemetry, mav: Any) -> Any:
    s = t.state
    seq, total, state, mode = t.mission_status()
    ids = s.plan_ids
    plan_ids = struct.pack(
        "<III", ids[MissionType.MISSION], ids[MissionType.FENCE], ids[MissionType.RALLY]
    )
    return Extended(mav.mission_current_encode(seq, total, state, mode), plan_ids)


def vfr_hud(t: Telemetry, mav: Any) -> Any:
    s = t.state
    m = s.motion
    wn, we = s.wind_ne
    airspeed = math.hypot(m.vn_mps - wn, m.ve_mps - we)
    hover_w = max(s.battery.hover_power_w, 1.0)
    throttle = int(min(100, 50 * s.battery.power_w / hover_w)) if s.armed else 0
    return mav.vfr_hud_encode(
        airspeed, m.ground_speed_mps, int(m.heading_deg) % 360, throttle, s.alt_amsl_m(), m.vu_mps
    )


def altitude(t: Telemetry, mav: Any) -> Any:
    s = t.state
    amsl = s.alt_amsl_m()
    rel = s.alt_rel_m()
    return mav.altitude_encode(
        s.boot_us(), amsl, amsl, s.motion.up_m, rel, s.ground_alt_amsl_m, s.motion.up_m
    )


def battery_status(t: Telemetry, mav: Any) -> Any:
    s = t.state
    b = s.battery
    cell_mv = int(b.voltage_v * 1000 / b.cells) if b.cells else 0
    voltages = [cell_mv] * b.cells + [65535] * (10 - b.cells)
    level = t.battery_warning()
    return mav.battery_status_encode(
        0,
        0,
        1,
        2500,
        voltages,
        min(32767, int(b.current_a * 100)),
        int(b.consumed_wh / max(b.voltage_v, 1.0) * 1000),
        int(b.consumed_wh * 36),
        round(b.remaining_pct),
        int(b.time_remaining_s()),
        MAV_BATTERY_CHARGE_STATE[level],
    )


def home_position(t: Telemetry, mav: Any) -> Any:
    s = t.state
    h = s.home
    n, e = s.frame.to_ne(h.lat_deg, h.lon_deg)
    return mav.home_position_encode(
        _i32(h.lat_deg * 1e7),
        _i32(h.lon_deg * 1e7),
        _i32(h.alt_amsl_m * 1000),
        n,
        e,
        -(h.alt_amsl_m - s.ground_alt_amsl_m),
        [1.0, 0.0, 0.0, 0.0],
        0.0,
        0.0,
        0.0,
        s.boot_us(),
    )


def gps_global_origin(t: Telemetry, mav: Any) -> Any:
    s = t.state
    return mav.gps_global_origin_encode(
        _i32(s.frame.origin_lat_deg * 1e7),
        _i32(s.frame.origin_lon_deg * 1e7),
        _i32(s.ground_alt_amsl_m * 1000),
        s.boot_us(),
    )


def extended_sys_state(t: Telemetry, mav: Any) -> Any:
    s = t.state
    return mav.extended_sys_state_encode(0, MAV_LANDED_STATE[s.landed_state])


def autopilot_version(t: Telemetry, mav: Any) -> Any:
    s = t.state
    return mav.autopilot_version_encode(
        MAV_PROTOCOL_CAPABILITY,
        FLIGHT_SW_VERSION,
        0,
        0,
        0,
        [0x64, 0x66, 0x72, 0, 0, 0, 0, 0],
        [0] * 8,
        [0] * 8,
        0,
        0,
        1000 + s.sysid,
    )


def orbit_execution_status(t: Telemetry, mav: Any) -> Any | None:
    s = t.state
    orbit = t.orbit
    if s.nav_state is not NavState.ORBIT or orbit is None:
        return None
    lat, lon = s.frame.to_lat_lon(*orbit.center_ne)
    return mav.orbit_execution_status_encode(
        s.boot_us(),
        orbit.radius_m * orbit.direction,
        5,
        _i32(lat * 1e7),
        _i32(lon * 1e7),
        s.ground_alt_amsl_m + orbit.up_m,
    )


ENCODERS: dict[int, Callable[[Telemetry, Any], Any | None]] = {
    HEARTBEAT: heartbeat,
    SYS_STATUS: sys_status,
    SYSTEM_TIME: system_time,
    GPS_RAW_INT: gps_raw_int,
    ATTITUDE: attitude,
    ATTITUDE_QUATERNION: attitude_quaternion,
    LOCAL_POSITION_NED: local_position_ned,
    GLOBAL_POSITION_INT: global_position_int,
    MISSION_CURRENT: mission_current,
    GPS_GLOBAL_ORIGIN: gps_global_origin,
    VFR_HUD: vfr_hud,
    ALTITUDE: altitude,
    BATTERY_STATUS: battery_status,
    AUTOPILOT_VERSION: autopilot_version,
    HOME_POSITION: home_position,
    EXTENDED_SYS_STATE: extended_sys_state,
    ORBIT_EXECUTION_STATUS: orbit_execution_status,
}
