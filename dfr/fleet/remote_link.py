"""The service's side of a drone whose MAVSDK link runs in a link worker process.

A :class:`RemoteDroneLink` is a :class:`~dfr.fleet.vehicle_link.VehicleLink` like the
in-process :class:`~dfr.fleet.link.DroneLink`: it keeps the drone's latest state (as the
worker reports it), its STATUSTEXTs, limits and link warnings, and hands each to the same
callbacks; its commands go to the worker (:class:`~dfr.fleet.link_workers.LinkWorker`) and
raise the same errors. While its worker is down the link shows ``lost`` (or stays
``connecting`` if it never came up) and commands are refused with a
:class:`~dfr.errors.LinkError` saying so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from dfr.errors import LinkError
from dfr.fleet.drone_state import DroneState, LinkState
from dfr.fleet.link_types import (
    LinkWarning,
    MissionProgress,
    StatusTexts,
    check_sysid,
    wait_up,
)
from dfr.fleet.link_wire import items_out
from dfr.fleet.mission_encoding import MissionItemLike
from dfr.planning.vehicle_limits import VehicleLimits

logger = logging.getLogger(__name__)

HEARTBEAT_LOST = "no heartbeat"
WORKER_GONE = "its link worker stopped; the service is starting it again"


class CommandChannel(Protocol):
    async def call(self, drone_id: str, method: str, args: list[Any]) -> None: ...


class RemoteDroneLink:
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
    ) -> None:
        check_sysid(drone_id, sysid)
        self.drone_id = drone_id
        self.url = url
        self.sysid = sysid
        self.state = DroneState(drone_id=drone_id, link=LinkState.CONNECTING)
        self.limits: VehicleLimits | None = None
        self.link_warnings: list[LinkWarning] = []
        self.texts = StatusTexts()
        self.worker_pid: int | None = None  # the process that holds the MAVSDK session
        self.lost_cause = HEARTBEAT_LOST
        self._on_state = on_state
        self._on_status_text = on_status_text
        self._on_mission_progress = on_mission_progress
        self._on_limits = on_limits
        self._on_link_warning = on_link_warning
        self._channel: CommandChannel | None = None
        self._connected = asyncio.Event()

    # -- what the worker reports ---------------------------------------------------------

    def attach(self, channel: CommandChannel, pid: int) -> None:
        self._channel, self.worker_pid = channel, pid

    def took_state(self, state: DroneState) -> None:
        self.lost_cause = HEARTBEAT_LOST  # the worker's own link: lost means no heartbeat
        self.state = state
        if state.link is LinkState.UP:
            self._connected.set()
        else:
            self._connected.clear()
        self._on_state(state)

    def took_text(self, severity: str, message: str) -> None:
        self.texts.add(message)
        self.state = replace(self.state, status_text=message)
        if self._on_status_text is not None:
            self._on_status_text(severity, message)

    def took_progress(self, progress: MissionProgress) -> None:
        if self._on_mission_progress is not None:
            self._on_mission_progress(progress)

    def took_limits(self, limits: VehicleLimits) -> None:
        self.limits = limits
        if self._on_limits is not None:
            self._on_limits(limits)

    def took_warning(self, warning: LinkWarning) -> None:
        self.link_warnings.append(warning)
        if self._on_link_warning is not None:
            self._on_link_warning(warning)

    def worker_gone(self) -> None:
        """Its worker died: no session, no commands, until the restarted worker reports."""
        self._channel, self.worker_pid = None, None
        self.lost_cause = WORKER_GONE
        self._connected.clear()
        was = self.state.link
        link = LinkState.LOST if was is LinkState.UP else was
        if link is LinkState.LOST and was is LinkState.UP:
            logger.warning("%s: link lost (its link worker stopped)", self.drone_id)
        self.state = replace(self.state, link=link, updated_at=datetime.now(UTC))
        self._on_state(self.state)

    # -- the VehicleLink side ----------------------------------------------------------

    @property
    def status_count(self) -> int:
        """STATUSTEXTs received so far."""
        return self.texts.count

    def texts_since(self, count: int) -> list[str]:
        """The vehicle's STATUSTEXTs received after the ``count``-th one (the recent ones)."""
        return self.texts.since(count)

    async def wait_connected(self, timeout_s: float) -> None:
        await wait_up(self._connected, timeout_s, self.drone_id, self.url)

    def _send(self, method: str, *args: Any) -> Awaitable[None]:
        channel = self._channel
        if channel is None:
            raise LinkError(self.drone_id, "its link worker is not running: cannot send commands")
        if self.state.link is not LinkState.UP:
            raise LinkError(self.drone_id, f"link is {self.state.link}: cannot send commands")
        return channel.call(self.drone_id, method, list(args))

    async def arm(self) -> None:
        await self._send("arm")

    async def takeoff(self) -> None:
        await self._send("takeoff")

    async def hold(self) -> None:
        await self._send("hold")

    async def return_to_launch(self) -> None:
        await self._send("return_to_launch")

    async def disarm(self) -> None:
        await self._send("disarm")

    async def land(self) -> None:
        await self._send("land")

    async def set_speed(self, speed_mps: float) -> None:
        await self._send("set_speed", speed_mps)

    async def upload_mission(self, items: Sequence[MissionItemLike]) -> None:
        await self._send("upload_mission", items_out(items))

    async def upload_geofence(self, items: Sequence[MissionItemLike]) -> None:
        await self._send("upload_geofence", items_out(items))

    async def start_mission(self) -> None:
        await self._send("start_mission")

    async def reposition(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, speed_mps: float | None = None
    ) -> None:
        await self._send("reposition", lat_deg, lon_deg, alt_amsl_m, speed_mps)

    async def orbit(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, radius_m: float, speed_mps: float
    ) -> None:
        await self._send("orbit", lat_deg, lon_deg, alt_amsl_m, radius_m, speed_mps)
