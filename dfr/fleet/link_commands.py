"""Commands to one drone over its MAVLink session (mavsdk 4.x), and their errors.

A :class:`VehicleCommands` is made for each session of a
:class:`~dfr.fleet.link.DroneLink` (which checks that the link is up before each call).
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
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mavsdk.asyncio.plugins.action import ActionAsync
from mavsdk.asyncio.plugins.geofence import GeofenceAsync
from mavsdk.asyncio.plugins.mavlink_direct import MavlinkDirectAsync
from mavsdk.asyncio.plugins.mission_raw import MissionRawAsync
from mavsdk.exceptions import MavsdkError
from mavsdk.plugins.mavlink_direct.mavlink_direct import MavlinkMessage
from mavsdk.plugins.mission_raw.mission_raw import MissionItem as RawMissionItem
from mavsdk.plugins.mission_raw.mission_raw import (
    MissionRawError,
    MissionRawResult,
)

from dfr.errors import CommandError, CommandTimeout
from dfr.fleet.drone_state import DroneState
from dfr.fleet.mission_encoding import MissionItemLike

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


class VehicleCommands:
    """The commands of one MAVSDK system (one session of one drone's link)."""

    def __init__(
        self, drone_id: str, sysid: int, system: Any, state_of: Callable[[], DroneState]
    ) -> None:
        self.drone_id = drone_id
        self.sysid = sysid
        self._state_of = state_of  # the link's latest state (for reposition's yaw)
        self._action = ActionAsync(system)
        self.mission = MissionRawAsync(system)  # also the link's mission progress stream
        self._geofence = GeofenceAsync(system)
        self._direct = MavlinkDirectAsync(system)

    async def _call(self, command: str, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except MavsdkError as exc:
            result = getattr(getattr(exc, "result", None), "name", type(exc).__name__)
            error = CommandTimeout if result in TIMEOUT_RESULTS else CommandError
            raise error(self.drone_id, command, str(result).lower()) from exc

    async def arm(self) -> None:
        await self._call("arm", self._action.arm())

    async def takeoff(self) -> None:
        await self._call("takeoff", self._action.takeoff())

    async def hold(self) -> None:
        await self._call("hold", self._action.hold())

    async def return_to_launch(self) -> None:
        await self._call("return", self._action.return_to_launch())

    async def disarm(self) -> None:
        await self._call("disarm", self._action.disarm())

    async def land(self) -> None:
        await self._call("land", self._action.land())

    async def set_speed(self, speed_mps: float) -> None:
        await self._call("set_speed", self._action.set_current_speed(speed_mps))

    async def upload_mission(self, items: Sequence[MissionItemLike]) -> None:
        await self._call("upload_mission", self._transfer("upload_mission", items))

    async def upload_geofence(self, items: Sequence[MissionItemLike]) -> None:
        if not items:  # a site without zones: clear whatever fence the vehicle still holds
            # (mavsdk refuses an empty upload with NO_MISSION_AVAILABLE)
            await self._call("clear_geofence", self._geofence.clear_geofence())
            return
        await self._call("upload_geofence", self._transfer("upload_geofence", items))

    async def _transfer(self, kind: str, items: Sequence[MissionItemLike]) -> None:
        """A mission or fence upload through MAVSDK's callback API. The asyncio wrapper's
        blocking call holds an executor thread for the whole transfer, and a session that
        ends mid-upload (the flight cancelled, the link closed) left that thread blocked
        in MAVSDK for good, and the event loop's shutdown waiting on it."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[MissionRawResult] = loop.create_future()

        def settle(result: MissionRawResult, _user_data: Any = None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(_settle, done, result)

        plugin = self.mission._plugin  # the MissionRaw under the asyncio wrapper
        start = getattr(plugin, f"{kind}_async")
        start([_raw(i) for i in items], settle)
        try:
            result = await done
        except asyncio.CancelledError:
            if kind == "upload_mission":
                with contextlib.suppress(MavsdkError):
                    plugin.cancel_mission_upload()
            raise
        if result is not MissionRawResult.SUCCESS:
            raise MissionRawError(result, f"{kind}()", items)

    async def start_mission(self) -> None:
        await self._call("start_mission", self.mission.start_mission())

    async def reposition(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, speed_mps: float | None = None
    ) -> None:
        """DO_REPOSITION as COMMAND_INT in GLOBAL_INT: fly to the point and hold there."""
        # param4 is the yaw PX4 turns to (radians): face where the drone is going, or keep
        # the current heading for an altitude change; 0 would turn every drone north
        state = self._state_of()
        yaw_rad = math.radians(state.heading_deg) if math.isfinite(state.heading_deg) else 0.0
        if state.has_position:
            d_north = lat_deg - state.lat_deg
            d_east = (lon_deg - state.lon_deg) * math.cos(math.radians(lat_deg))
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
        ack = await self._call(name, self._direct.send_command(message))
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


def _settle(future: asyncio.Future[MissionRawResult], result: MissionRawResult) -> None:
    if not future.done():
        future.set_result(result)
