"""Telemetry streams: what a link sends, how often, and how each message is built.

Default rates follow PX4's ``configure_streams_to_default`` (reference §5.5) for
the NORMAL (GCS) and ONBOARD (API) link modes, with one documented deviation:
the high-rate streams (PX4 SITL sends GLOBAL_POSITION_INT/ATTITUDE/
ATTITUDE_QUATERNION/LOCAL_POSITION_NED at 30-100 Hz) default to 10 Hz here so that
20 vehicles fit on one core; SET_MESSAGE_INTERVAL raises them up to the 50 Hz
tick rate. Intervals are real time, independent of the speed factor.
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sitl.battery import MAV_BATTERY_CHARGE_STATE
from sitl.link import Extended, Link, LinkMode
from sitl.mission_item import MissionType
from sitl.modes import MAV_LANDED_STATE, NavState, base_mode, custom_mode

if TYPE_CHECKING:
    from sitl.vehicle import Vehicle

MAX_STREAM_RATE_HZ = 50.0

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

DEFAULT_RATES_HZ: dict[LinkMode, dict[int, float]] = {
    LinkMode.NORMAL: {
        HEARTBEAT: 1.0,
        SYS_STATUS: 1.0,
        GLOBAL_POSITION_INT: 10.0,
        LOCAL_POSITION_NED: 10.0,
        ATTITUDE: 10.0,
        ATTITUDE_QUATERNION: 10.0,
        GPS_RAW_INT: 1.0,
        EXTENDED_SYS_STATE: 1.0,
        BATTERY_STATUS: 0.5,
        HOME_POSITION: 0.5,
        ALTITUDE: 1.0,
        VFR_HUD: 4.0,
        MISSION_CURRENT: 1.0,
        ORBIT_EXECUTION_STATUS: 2.0,
        GPS_GLOBAL_ORIGIN: 0.1,
    },
    LinkMode.ONBOARD: {
        HEARTBEAT: 1.0,
        SYS_STATUS: 5.0,
        GLOBAL_POSITION_INT: 10.0,
        LOCAL_POSITION_NED: 10.0,
        ATTITUDE: 10.0,
        ATTITUDE_QUATERNION: 10.0,
        GPS_RAW_INT: 5.0,
        EXTENDED_SYS_STATE: 5.0,
        BATTERY_STATUS: 0.5,
        HOME_POSITION: 0.5,
        ALTITUDE: 10.0,
        VFR_HUD: 10.0,
        SYSTEM_TIME: 1.0,
        MISSION_CURRENT: 1.0,
        ORBIT_EXECUTION_STATUS: 5.0,
        GPS_GLOBAL_ORIGIN: 1.0,
    },
}

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


def heartbeat(v: Vehicle, mav: Any) -> Any:
    return mav.heartbeat_encode(
        2, 12, base_mode(v.nav_state, v.armed), custom_mode(v.nav_state), v.system_status(), 3
    )


def sys_status(v: Vehicle, mav: Any) -> Any:
    health = SENSORS_PRESENT
    if not v.commander.prearm_ok():
        health &= ~SENSOR_PREARM_CHECK
    if v.gps_failed:
        health &= ~(SENSOR_GPS | SENSOR_XY_POS)
    if v.motor_failed:
        health &= ~SENSOR_MOTOR_OUTPUTS
    b = v.battery
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


def system_time(v: Vehicle, mav: Any) -> Any:
    return mav.system_time_encode(int(time.time() * 1e6), v.boot_ms() & 0xFFFFFFFF)


def gps_raw_int(v: Vehicle, mav: Any) -> Any:
    lat, lon = v.lat_lon()
    if v.gps_failed:
        return mav.gps_raw_int_encode(v.boot_us(), 0, 0, 0, 0, 65535, 65535, 65535, 65535, 0)
    return mav.gps_raw_int_encode(
        v.boot_us(),
        3,
        _i32(lat * 1e7),
        _i32(lon * 1e7),
        _i32(v.alt_amsl_m() * 1000),
        70,
        110,
        int(v.motion.ground_speed_mps * 100),
        int(v.course_deg() * 100) % 36000,
        10,
    )


def attitude(v: Vehicle, mav: Any) -> Any:
    m = v.motion
    yaw = math.radians(m.heading_deg)
    yaw = yaw - 2 * math.pi if yaw > math.pi else yaw
    return mav.attitude_encode(v.boot_ms(), m.roll_rad, m.pitch_rad, yaw, 0.0, 0.0, 0.0)


def attitude_quaternion(v: Vehicle, mav: Any) -> Any:
    m = v.motion
    q = _quaternion(m.roll_rad, m.pitch_rad, math.radians(m.heading_deg))
    return mav.attitude_quaternion_encode(v.boot_ms(), q[0], q[1], q[2], q[3], 0.0, 0.0, 0.0)


def local_position_ned(v: Vehicle, mav: Any) -> Any:
    m = v.motion
    return mav.local_position_ned_encode(
        v.boot_ms(), m.north_m, m.east_m, -m.up_m, m.vn_mps, m.ve_mps, -m.vu_mps
    )


def global_position_int(v: Vehicle, mav: Any) -> Any:
    m = v.motion
    lat, lon = v.lat_lon()
    return mav.global_position_int_encode(
        v.boot_ms(),
        _i32(lat * 1e7),
        _i32(lon * 1e7),
        _i32(v.alt_amsl_m() * 1000),
        _i32(v.alt_rel_m() * 1000),
        int(m.vn_mps * 100),
        int(m.ve_mps * 100),
        int(-m.vu_mps * 100),
        int(m.heading_deg * 100) % 36000,
    )


def mission_current(v: Vehicle, mav: Any) -> Any:
    seq, total, state, mode = v.navigator.mission_status()
    ids = v.transfer.ids
    plan_ids = struct.pack(
        "<III", ids[MissionType.MISSION], ids[MissionType.FENCE], ids[MissionType.RALLY]
    )
    return Extended(mav.mission_current_encode(seq, total, state, mode), plan_ids)


def vfr_hud(v: Vehicle, mav: Any) -> Any:
    m = v.motion
    wn, we = v.wind_ne
    airspeed = math.hypot(m.vn_mps - wn, m.ve_mps - we)
    hover_w = max(v.battery.hover_power_w, 1.0)
    throttle = int(min(100, 50 * v.battery.power_w / hover_w)) if v.armed else 0
    return mav.vfr_hud_encode(
        airspeed, m.ground_speed_mps, int(m.heading_deg) % 360, throttle, v.alt_amsl_m(), m.vu_mps
    )


def altitude(v: Vehicle, mav: Any) -> Any:
    amsl = v.alt_amsl_m()
    rel = v.alt_rel_m()
    return mav.altitude_encode(
        v.boot_us(), amsl, amsl, v.motion.up_m, rel, v.ground_alt_amsl_m, v.motion.up_m
    )


def battery_status(v: Vehicle, mav: Any) -> Any:
    b = v.battery
    cell_mv = int(b.voltage_v * 1000 / b.cells) if b.cells else 0
    voltages = [cell_mv] * b.cells + [65535] * (10 - b.cells)
    level = v.commander.battery_warning()
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


def home_position(v: Vehicle, mav: Any) -> Any:
    h = v.home
    n, e = v.frame.to_ne(h.lat_deg, h.lon_deg)
    return mav.home_position_encode(
        _i32(h.lat_deg * 1e7),
        _i32(h.lon_deg * 1e7),
        _i32(h.alt_amsl_m * 1000),
        n,
        e,
        -(h.alt_amsl_m - v.ground_alt_amsl_m),
        [1.0, 0.0, 0.0, 0.0],
        0.0,
        0.0,
        0.0,
        v.boot_us(),
    )


def gps_global_origin(v: Vehicle, mav: Any) -> Any:
    return mav.gps_global_origin_encode(
        _i32(v.frame.origin_lat_deg * 1e7),
        _i32(v.frame.origin_lon_deg * 1e7),
        _i32(v.ground_alt_amsl_m * 1000),
        v.boot_us(),
    )


def extended_sys_state(v: Vehicle, mav: Any) -> Any:
    return mav.extended_sys_state_encode(0, MAV_LANDED_STATE[v.landed_state])


def autopilot_version(v: Vehicle, mav: Any) -> Any:
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
        1000 + v.sysid,
    )


def orbit_execution_status(v: Vehicle, mav: Any) -> Any | None:
    orbit = v.navigator.orbit
    if v.nav_state is not NavState.ORBIT or orbit is None:
        return None
    lat, lon = v.frame.to_lat_lon(*orbit.center_ne)
    return mav.orbit_execution_status_encode(
        v.boot_us(),
        orbit.radius_m * orbit.direction,
        5,
        _i32(lat * 1e7),
        _i32(lon * 1e7),
        v.ground_alt_amsl_m + orbit.up_m,
    )


ENCODERS: dict[int, Callable[[Vehicle, Any], Any | None]] = {
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

# messages with no periodic position (so position loss does not hide them)
_NEEDS_POSITION = {GLOBAL_POSITION_INT, LOCAL_POSITION_NED}


class StreamSchedule:
    """Per-link stream intervals (real seconds) and next due times."""

    __slots__ = ("_due", "_intervals", "_mode")

    def __init__(self, mode: LinkMode, now_s: float) -> None:
        self._mode = mode
        self._intervals: dict[int, float] = {
            msg_id: 1.0 / hz for msg_id, hz in DEFAULT_RATES_HZ[mode].items()
        }
        # spread first sends over the first 100 ms
        self._due: dict[int, float] = {
            msg_id: now_s + 0.005 * i for i, msg_id in enumerate(self._intervals)
        }

    def can_stream(self, msg_id: int) -> bool:
        """HEARTBEAT is a constant-rate stream in PX4: it cannot be changed or disabled."""
        return msg_id in ENCODERS and msg_id not in (AUTOPILOT_VERSION, HEARTBEAT)

    def set_interval(self, msg_id: int, interval_us: float, now_s: float) -> bool:
        """SET_MESSAGE_INTERVAL semantics: −1 disable, 0 default, else µs. False = impossible."""
        if not self.can_stream(msg_id):
            return False
        if interval_us < 0:
            self._intervals.pop(msg_id, None)
            self._due.pop(msg_id, None)
            return True
        if interval_us == 0:
            hz = DEFAULT_RATES_HZ[self._mode].get(msg_id)
            if hz is None:
                self._intervals.pop(msg_id, None)
                self._due.pop(msg_id, None)
                return True
            interval_s = 1.0 / hz
        else:
            interval_s = max(interval_us / 1e6, 1.0 / MAX_STREAM_RATE_HZ)
        self._intervals[msg_id] = interval_s
        self._due[msg_id] = now_s
        return True

    def interval_s(self, msg_id: int) -> float | None:
        return self._intervals.get(msg_id)

    def send_due(self, vehicle: Vehicle, link: Link, now_s: float) -> None:
        for msg_id, due in self._due.items():
            if now_s < due:
                continue
            interval = self._intervals[msg_id]
            nxt = due + interval
            self._due[msg_id] = nxt if nxt > now_s else now_s + interval
            if msg_id in _NEEDS_POSITION and vehicle.gps_failed:
                continue
            msg = ENCODERS[msg_id](vehicle, link.mav)
            if msg is not None:
                link.send(msg)
