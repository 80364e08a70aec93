"""Telemetry streams: what a link sends and how often.

Default rates follow PX4's ``configure_streams_to_default`` (reference §5.5) for
the NORMAL (GCS) and ONBOARD (API) link modes, with one documented deviation:
the high-rate streams (PX4 SITL sends GLOBAL_POSITION_INT/ATTITUDE/
ATTITUDE_QUATERNION/LOCAL_POSITION_NED at 30-100 Hz) default to 10 Hz here so that
20 vehicles fit on one core; SET_MESSAGE_INTERVAL raises them up to the 50 Hz
tick rate. Intervals are real time, independent of the speed factor. How each message
is built is :mod:`sitl.telemetry` (its ``ENCODERS`` are looked up at send time, so a
replaced encoder takes effect at once).
"""

from __future__ import annotations

from sitl.link import Link, LinkMode
from sitl.telemetry import (
    ALTITUDE,
    ATTITUDE,
    ATTITUDE_QUATERNION,
    AUTOPILOT_VERSION,
    BATTERY_STATUS,
    ENCODERS,
    EXTENDED_SYS_STATE,
    GLOBAL_POSITION_INT,
    GPS_GLOBAL_ORIGIN,
    GPS_RAW_INT,
    HEARTBEAT,
    HOME_POSITION,
    LOCAL_POSITION_NED,
    MISSION_CURRENT,
    ORBIT_EXECUTION_STATUS,
    SYS_STATUS,
    SYSTEM_TIME,
    VFR_HUD,
    Telemetry,
)

MAX_STREAM_RATE_HZ = 50.0

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

    def send_due(self, vehicle: Telemetry, link: Link, now_s: float) -> None:
        for msg_id, due in self._due.items():
            if now_s < due:
                continue
            interval = self._intervals[msg_id]
            nxt = due + interval
            self._due[msg_id] = nxt if nxt > now_s else now_s + interval
            if msg_id in _NEEDS_POSITION and vehicle.state.gps_failed:
                continue
            msg = ENCODERS[msg_id](vehicle, link.mav)
            if msg is not None:
                link.send(msg)
