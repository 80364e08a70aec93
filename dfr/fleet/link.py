"""One drone's MAVLink link through MAVSDK (mavsdk 4.x, native binding).

A :class:`DroneLink` owns one ``Mavsdk`` instance, one connection URL and the system id of
its vehicle (the site's ``sysid``, PX4's MAV_SYS_ID). It connects to that system and no
other: an autopilot with another id on the same port is never taken for the drone; it is
logged once and reported once through ``on_link_warning`` (and kept in
``link_warnings``), because anything that can reach the port could be an impostor. While it runs
it folds telemetry into a :class:`DroneState` and hands every new state to the
``on_state`` callback; it watches the heartbeat and logs "link lost" and "link back"
once each. MAVSDK keeps listening on the same port, so a vehicle that comes back is
picked up without re-creating anything.

Commands raise :class:`CommandError` (refused) or :class:`CommandTimeout` (no answer:
outcome unknown). DO_REPOSITION and DO_ORBIT go out as COMMAND_INT in
MAV_FRAME_GLOBAL_INT through MavlinkDirect, because mavsdk 4.1.0's ``goto_location``
and ``do_orbit`` send frames that PX4 main refuses (frame 0 and 3); frame 5 with z as
AMSL altitude is what both PX4 v1.16 and PX4 main accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from mavsdk.asyncio import Configuration, Mavsdk
from mavsdk.asyncio.plugins.action import ActionAsync
from mavsdk.asyncio.plugins.geofence import GeofenceAsync
from mavsdk.asyncio.plugins.mavlink_direct import MavlinkDirectAsync
from mavsdk.asyncio.plugins.mission_raw import MissionRawAsync
from mavsdk.asyncio.plugins.param import ParamAsync
from mavsdk.asyncio.plugins.telemetry import TelemetryAsync
from mavsdk.component_type import ComponentType
from mavsdk.exceptions import MavsdkError
from mavsdk.plugins.mavlink_direct.mavlink_direct import MavlinkMessage
from mavsdk.plugins.mission_raw.mission_raw import MissionItem as RawMissionItem

from dfr.errors import CommandError, CommandTimeout, LinkError
from dfr.fleet.drone_state import DroneState, LandedState, LinkState
from dfr.planning.vehicle_limits import EXTRA_PARAMS, VehicleLimits
from dfr.planning.vehicle_limits import PARAMS as LIMIT_PARAMS

logger = logging.getLogger(__name__)

MAV_CMD_DO_ORBIT = 34
MAV_CMD_DO_REPOSITION = 192
MAV_FRAME_GLOBAL_INT = 5
MAV_DO_REPOSITION_FLAGS_CHANGE_MODE = 1
MAV_RESULT_NAMES = {
    0: "accepted",
    1: "temporarily_rejected",
    2: "denied",
    3: "unsupported",
    4: "failed",
    5: "in_progress",
    6: "cancelled",
    9: "unsupported_frame",
}
TIMEOUT_RESULTS = frozenset({"TIMEOUT", "CONNECTION_ERROR", "NO_SYSTEM"})
RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 5.0)
RECENT_TEXTS = 32
SYSTEM_POLL_S = 1.0  # besides MAVSDK's new-system events: a system's autopilot shows later

_LANDED = {
    0: LandedState.UNKNOWN,
    1: LandedState.ON_GROUND,
    2: LandedState.IN_AIR,
    3: LandedState.TAKING_OFF,
    4: LandedState.LANDING,
}


class MissionItemLike(Protocol):
    """A MAVLink MISSION_ITEM_INT as the flight code builds it (read-only fields)."""

    @property
    def seq(self) -> int: ...
    @property
    def frame(self) -> int: ...
    @property
    def command(self) -> int: ...
    @property
    def current(self) -> int: ...
    @property
    def autocontinue(self) -> int: ...
    @property
    def param1(self) -> float: ...
    @property
    def param2(self) -> float: ...
    @property
    def param3(self) -> float: ...
    @property
    def param4(self) -> float: ...
    @property
    def x(self) -> int: ...
    @property
    def y(self) -> int: ...
    @property
    def z(self) -> float: ...
    @property
    def mission_type(self) -> int: ...


@dataclass(frozen=True, slots=True)
class LinkWarning:
    """Something on the drone's link that is not the drone (e.g. another system id)."""

    kind: str  # "stranger_system"
    message: str
    action: str
    sysid: int
    at: datetime


@dataclass(frozen=True, slots=True)
class MissionProgress:
    current: int
    total: int


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _finite_or(value: float, default: float) -> float:
    return value if math.isfinite(value) else default


class DroneLink:
    """The service's side of one drone's MAVLink connection."""

    def __init__(
        self,
        drone_id: str,
        url: str,
        *,
        on_state: Callable[[DroneState], None],
        on_status_text: Callable[[str, str], None] | None = None,
        on_mission_progress: Callable[[MissionProgress], None] | None = None,
        on_limits: Callable[[VehicleLimits], None] | None = None,
        on_link_warning: Callable[[LinkWarning], None] | None = None,
        sysid: int = 1,
        position_rate_hz: float = 10.0,
        heartbeat_timeout_s: float = 3.0,
    ) -> None:
        if not 1 <= sysid <= 255:
            raise ValueError(f"{drone_id}: system id {sysid} is not 1..255")
        self.drone_id = drone_id
        self.url = url
        self.sysid = sysid  # the only system this link takes
        self._on_link_warning = on_link_warning
        self.link_warnings: list[LinkWarning] = []  # one per stranger system id, oldest first
        self._strangers: set[int] = set()
        self._on_state = on_state
        self._on_status_text = on_status_text
        self._on_mission_progress = on_mission_progress
        self._on_limits = on_limits
        self.limits: VehicleLimits | None = None  # read from the vehicle at each connect
        self.status_count = 0  # STATUSTEXTs received so far
        self.recent_texts: deque[tuple[int, str]] = deque(maxlen=RECENT_TEXTS)
        self._position_rate_hz = position_rate_hz
        self._heartbeat_timeout_s = heartbeat_timeout_s
        self.state = DroneState(drone_id=drone_id, link=LinkState.CONNECTING)
        self._system: Any = None
        self._action: ActionAsync | None = None
        self._mission: MissionRawAsync | None = None
        self._geofence: GeofenceAsync | None = None
        self._direct: MavlinkDirectAsync | None = None
        self._connected = asyncio.Event()

    # -- running -----------------------------------------------------------------------

    async def run(self) -> None:
        """Connect and fold telemetry until cancelled. Never returns on its own."""
        attempt = 0
        while True:
            reached_up = False
            try:
                reached_up = await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # MAVSDK errors, or an exception group from the session
                reached_up = self._connected.is_set() or reached_up
                if reached_up:
                    attempt = 0
                delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
                attempt += 1
                logger.warning(
                    "%s: link session on %s ended (%s); again in %.1f s",
                    self.drone_id,
                    self.url,
                    exc,
                    delay,
                )
                self._set_link(LinkState.LOST if reached_up else self.state.link)
                await asyncio.sleep(delay)

    async def wait_connected(self, timeout_s: float) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                await self._connected.wait()
        except TimeoutError as exc:
            raise LinkError(
                self.drone_id, f"no vehicle on {self.url} after {timeout_s:.0f} s"
            ) from exc

    async def _session(self) -> bool:
        config = Configuration.create_with_component_type(ComponentType.GROUND_STATION)
        async with Mavsdk(config) as mavsdk, asyncio.TaskGroup() as tg:
            changed = asyncio.Event()
            watcher = tg.create_task(
                self._watch_systems(mavsdk, changed), name=f"{self.drone_id}: systems"
            )
            try:
                await mavsdk.add_any_connection(self.url)
                logger.info(
                    "%s: listening on %s for system %d", self.drone_id, self.url, self.sysid
                )
                system = await self._our_system(mavsdk, changed)
                await self._session_with(system)
            finally:
                watcher.cancel()
        return True

    async def _our_system(self, mavsdk: Mavsdk, changed: asyncio.Event) -> Any:
        """Wait for the autopilot with our system id (every other id is reported)."""
        while True:
            changed.clear()
            ours = await self._check_systems(mavsdk)
            if ours is not None:
                return ours
            # MAVSDK says when a system appears, not when its autopilot does: look again
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SYSTEM_POLL_S):
                    await changed.wait()

    async def _check_systems(self, mavsdk: Mavsdk) -> Any:
        """Our system if MAVSDK has it with an autopilot; strangers are reported once."""
        ours = None
        for candidate in await mavsdk.get_systems():
            sysid = await candidate.get_system_id()
            if sysid != self.sysid:
                self._stranger(sysid)
            elif await candidate.has_autopilot():
                ours = candidate
        return ours

    async def _watch_systems(self, mavsdk: Mavsdk, changed: asyncio.Event) -> None:
        """For the whole session: every system that appears on the port is looked at (a
        stranger is reported also while the drone is connected)."""
        async for _ in mavsdk.on_new_system():
            await self._check_systems(mavsdk)
            changed.set()

    def _stranger(self, sysid: int) -> None:
        if sysid in self._strangers:
            return
        self._strangers.add(sysid)
        warning = LinkWarning(
            kind="stranger_system",
            message=(
                f"system {sysid} speaks MAVLink on {self.url}, where only system "
                f"{self.sysid} should; its messages are not taken for {self.drone_id}'s"
            ),
            action=(
                "find what sends from that system id (a second vehicle on this port, a "
                "misconfigured MAV_SYS_ID, or an impostor); if the drone's id really changed, "
                "set sysid in site.yaml"
            ),
            sysid=sysid,
            at=_utc_now(),
        )
        self.link_warnings.append(warning)
        logger.warning("%s: %s", self.drone_id, warning.message)
        if self._on_link_warning is not None:
            self._on_link_warning(warning)

    async def _session_with(self, system: Any) -> None:
        self._system = system
        self._action = ActionAsync(system)
        self._mission = MissionRawAsync(system)
        self._geofence = GeofenceAsync(system)
        self._direct = MavlinkDirectAsync(system)
        telemetry = TelemetryAsync(system)
        self._set_link(LinkState.UP)
        try:
            await telemetry.set_rate_position(self._position_rate_hz)
        except MavsdkError as exc:
            logger.warning("%s: could not set position rate: %s", self.drone_id, exc)
        try:
            async with asyncio.TaskGroup() as tg:
                for name, coro in self._subscriptions(system, telemetry):
                    tg.create_task(coro, name=f"{self.drone_id}: {name}")
        finally:
            self._connected.clear()
            self._system = None

    async def _read_limits(self, param: ParamAsync) -> None:
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
                self.drone_id,
                ", ".join(missing),
            )
        logger.info(
            "%s: vehicle limits: cruise %g, max %g m/s, climb %g, descent %g m/s, acc %g m/s²",
            self.drone_id,
            limits.xy_cruise_mps,
            limits.xy_vel_max_mps,
            limits.z_up_mps,
            limits.z_down_mps,
            limits.acc_hor_mps2,
        )
        self.limits = limits
        if self._on_limits is not None:
            self._on_limits(limits)

    def _subscriptions(
        self, system: Any, tel: TelemetryAsync
    ) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        subs: list[tuple[str, Coroutine[Any, Any, None]]] = [
            ("connection", self._follow(system.is_connected_state(), self._connection)),
            ("position", self._follow(tel.subscribe_position(), self._position)),
            ("home", self._follow(tel.subscribe_home(), self._home)),
            ("armed", self._follow(tel.subscribe_armed(), self._armed)),
            ("landed", self._follow(tel.subscribe_landed_state(), self._landed)),
            ("mode", self._follow(tel.subscribe_flight_mode(), self._mode)),
            ("battery", self._follow(tel.subscribe_battery(), self._battery)),
            ("health", self._follow(tel.subscribe_health(), self._health)),
            ("velocity", self._follow(tel.subscribe_velocity_ned(), self._velocity)),
            ("heading", self._follow(tel.subscribe_heading(), self._heading)),
            ("status text", self._follow(tel.subscribe_status_text(), self._status_text)),
            ("limits", self._read_limits(ParamAsync(system))),
        ]
        if self._mission is not None:
            subs.append(
                (
                    "mission",
                    self._follow(self._mission.subscribe_mission_progress(), self._progress),
                )
            )
        return subs

    @staticmethod
    async def _follow(stream: AsyncIterator[Any], handle: Callable[[Any], None]) -> None:
        async for item in stream:
            handle(item)

    # -- telemetry folding -------------------------------------------------------------

    def _update(self, publish: bool = True, **changes: Any) -> None:
        self.state = replace(self.state, updated_at=_utc_now(), **changes)
        if publish:
            self._on_state(self.state)

    def _set_link(self, link: LinkState) -> None:
        if link is self.state.link:
            return
        if link is LinkState.LOST:
            logger.warning(
                "%s: link lost (no heartbeat for %.0f s)", self.drone_id, self._heartbeat_timeout_s
            )
        elif link is LinkState.UP:
            level = logging.WARNING if self.state.link is LinkState.LOST else logging.INFO
            logger.log(
                level, "%s: link %s", self.drone_id, "back" if level == logging.WARNING else "up"
            )
        if link is LinkState.UP:
            self._connected.set()
        else:
            self._connected.clear()
        self._update(link=link)

    def _connection(self, connected: bool) -> None:
        self._set_link(LinkState.UP if connected else LinkState.LOST)

    def _position(self, p: Any) -> None:
        self._update(
            lat_deg=p.latitude_deg,
            lon_deg=p.longitude_deg,
            alt_amsl_m=p.absolute_altitude_m,
            alt_rel_m=p.relative_altitude_m,
        )

    def _home(self, h: Any) -> None:
        self._update(
            publish=False,
            home_lat_deg=h.latitude_deg,
            home_lon_deg=h.longitude_deg,
            home_alt_amsl_m=h.absolute_altitude_m,
        )

    def _armed(self, armed: bool) -> None:
        if armed != self.state.armed:
            self._update(armed=armed)

    def _landed(self, landed: Any) -> None:
        state = _LANDED.get(int(landed), LandedState.UNKNOWN)
        if state is not self.state.landed:
            self._update(landed=state)

    def _mode(self, mode: Any) -> None:
        name = getattr(mode, "name", str(mode)).lower()
        if name != self.state.mode:
            self._update(mode=name)

    def _battery(self, b: Any) -> None:
        self._update(
            publish=False,
            battery_pct=_finite_or(b.remaining_percent, self.state.battery_pct),
            battery_v=_finite_or(b.voltage_v, self.state.battery_v),
        )

    def _health(self, h: Any) -> None:
        ok = bool(
            h.is_gyrometer_calibration_ok
            and h.is_accelerometer_calibration_ok
            and h.is_magnetometer_calibration_ok
            and h.is_local_position_ok
            and h.is_global_position_ok
            and h.is_home_position_ok
        )
        armable = bool(h.is_armable)
        if ok != self.state.health_ok or armable != self.state.armable:
            self._update(health_ok=ok, armable=armable)

    def _velocity(self, v: Any) -> None:
        self._update(
            publish=False,
            ground_speed_mps=math.hypot(v.north_m_s, v.east_m_s),
            climb_rate_mps=-v.down_m_s,
        )

    def _heading(self, h: Any) -> None:
        self._update(publish=False, heading_deg=h.heading_deg)

    def _status_text(self, text: Any) -> None:
        message = str(text.text).strip()  # PX4 ends most texts with a tab
        severity = getattr(text.type, "name", str(text.type)).lower()
        self.status_count += 1
        self.recent_texts.append((self.status_count, message))
        self._update(publish=False, status_text=message)
        logger.info("%s: vehicle says [%s] %s", self.drone_id, severity, message)
        if self._on_status_text is not None:
            self._on_status_text(severity, message)

    def _progress(self, progress: Any) -> None:
        if self._on_mission_progress is not None:
            self._on_mission_progress(MissionProgress(progress.current, progress.total))

    def texts_since(self, count: int) -> list[str]:
        """The vehicle's STATUSTEXTs received after the ``count``-th one (the recent ones)."""
        return [text for n, text in self.recent_texts if n > count]

    # -- commands ----------------------------------------------------------------------

    def _require(self) -> tuple[ActionAsync, MissionRawAsync, MavlinkDirectAsync]:
        if (
            self.state.link is not LinkState.UP
            or self._action is None
            or self._mission is None
            or self._direct is None
        ):
            raise LinkError(self.drone_id, f"link is {self.state.link}: cannot send commands")
        return self._action, self._mission, self._direct

    async def _call(self, command: str, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except MavsdkError as exc:
            result = getattr(getattr(exc, "result", None), "name", type(exc).__name__)
            error = CommandTimeout if result in TIMEOUT_RESULTS else CommandError
            raise error(self.drone_id, command, str(result).lower()) from exc

    async def arm(self) -> None:
        action, _, _ = self._require()
        await self._call("arm", action.arm())

    async def takeoff(self) -> None:
        action, _, _ = self._require()
        await self._call("takeoff", action.takeoff())

    async def hold(self) -> None:
        action, _, _ = self._require()
        await self._call("hold", action.hold())

    async def return_to_launch(self) -> None:
        action, _, _ = self._require()
        await self._call("return", action.return_to_launch())

    async def disarm(self) -> None:
        action, _, _ = self._require()
        await self._call("disarm", action.disarm())

    async def land(self) -> None:
        action, _, _ = self._require()
        await self._call("land", action.land())

    async def set_speed(self, speed_mps: float) -> None:
        action, _, _ = self._require()
        await self._call("set_speed", action.set_current_speed(speed_mps))

    async def upload_mission(self, items: Sequence[MissionItemLike]) -> None:
        _, mission, _ = self._require()
        await self._call("upload_mission", mission.upload_mission([_raw(i) for i in items]))

    async def upload_geofence(self, items: Sequence[MissionItemLike]) -> None:
        _, mission, _ = self._require()
        if not items:  # a site without zones: clear whatever fence the vehicle still holds
            # (mavsdk refuses an empty upload with NO_MISSION_AVAILABLE)
            assert self._geofence is not None
            await self._call("clear_geofence", self._geofence.clear_geofence())
            return
        await self._call("upload_geofence", mission.upload_geofence([_raw(i) for i in items]))

    async def start_mission(self) -> None:
        _, mission, _ = self._require()
        await self._call("start_mission", mission.start_mission())

    async def reposition(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, speed_mps: float | None = None
    ) -> None:
        """DO_REPOSITION as COMMAND_INT in GLOBAL_INT: fly to the point and hold there."""
        # param4 is the yaw PX4 turns to (radians): face where the drone is going, or keep
        # the current heading for an altitude change; 0 would turn every drone north
        yaw_rad = (
            math.radians(self.state.heading_deg) if math.isfinite(self.state.heading_deg) else 0.0
        )
        if self.state.has_position:
            d_north = lat_deg - self.state.lat_deg
            d_east = (lon_deg - self.state.lon_deg) * math.cos(math.radians(lat_deg))
            if math.hypot(d_north, d_east) > 1e-5:  # more than ~1 m away
                yaw_rad = math.atan2(d_east, d_north)
        await self._command_int(
            "goto",
            MAV_CMD_DO_REPOSITION,
            param1=speed_mps if speed_mps else -1.0,
            param2=float(MAV_DO_REPOSITION_FLAGS_CHANGE_MODE),
            param4=yaw_rad,
            lat_deg=lat_deg,
            lon_deg=lon_deg,
            alt_amsl_m=alt_amsl_m,
        )

    async def orbit(
        self,
        lat_deg: float,
        lon_deg: float,
        alt_amsl_m: float,
        radius_m: float,
        speed_mps: float,
    ) -> None:
        """DO_ORBIT as COMMAND_INT in GLOBAL_INT (radius > 0: clockwise), nose to centre."""
        await self._command_int(
            "orbit",
            MAV_CMD_DO_ORBIT,
            param1=radius_m,
            param2=speed_mps,
            param3=0.0,  # ORBIT_YAW_BEHAVIOUR_HOLD_FRONT_TO_CIRCLE_CENTER
            lat_deg=lat_deg,
            lon_deg=lon_deg,
            alt_amsl_m=alt_amsl_m,
        )

    async def _command_int(
        self,
        name: str,
        command: int,
        *,
        param1: float,
        param2: float,
        lat_deg: float,
        lon_deg: float,
        alt_amsl_m: float,
        param3: float = 0.0,
        param4: float = 0.0,
    ) -> None:
        _, _, direct = self._require()
        fields = {
            "target_system": self.sysid,
            "target_component": 1,
            "frame": MAV_FRAME_GLOBAL_INT,
            "command": command,
            "current": 0,
            "autocontinue": 0,
            "param1": param1,
            "param2": param2,
            "param3": param3,
            "param4": param4,
            "x": round(lat_deg * 1e7),
            "y": round(lon_deg * 1e7),
            "z": alt_amsl_m,
        }
        message = MavlinkMessage(
            message_name="COMMAND_INT",
            target_system_id=self.sysid,
            target_component_id=1,
            fields_json=json.dumps(fields),
        )
        ack = await self._call(name, direct.send_command(message))
        try:
            result = int(json.loads(ack.fields_json)["result"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CommandTimeout(self.drone_id, name, "no_ack") from exc
        if result != 0:
            raise CommandError(self.drone_id, name, MAV_RESULT_NAMES.get(result, str(result)))


def _raw(item: MissionItemLike) -> RawMissionItem:
    return RawMissionItem(
        seq=item.seq,
        frame=item.frame,
        command=item.command,
        current=item.current,
        autocontinue=item.autocontinue,
        param1=item.param1,
        param2=item.param2,
        param3=item.param3,
        param4=item.param4,
        x=item.x,
        y=item.y,
        z=item.z,
        mission_type=item.mission_type,
    )
