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

Telemetry folding is in :mod:`dfr.fleet.link_telemetry`, the commands (which raise
:class:`CommandError` or :class:`CommandTimeout`) in :mod:`dfr.fleet.link_commands`;
a :class:`DroneLink` is what the rest of the service holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mavsdk.asyncio import Configuration, Mavsdk
from mavsdk.asyncio.plugins.param import ParamAsync
from mavsdk.asyncio.plugins.telemetry import TelemetryAsync
from mavsdk.component_type import ComponentType
from mavsdk.exceptions import MavsdkError

from dfr.errors import LinkError
from dfr.fleet.drone_state import DroneState, LinkState
from dfr.fleet.link_commands import VehicleCommands
from dfr.fleet.link_telemetry import STREAMS, Fold, FoldOf, read_limits
from dfr.fleet.link_types import (
    LinkWarning,
    MissionProgress,
    StatusTexts,
    check_sysid,
    wait_up,
)
from dfr.fleet.mission_encoding import MissionItemLike
from dfr.planning.vehicle_limits import VehicleLimits

logger = logging.getLogger(__name__)

RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 5.0)
SYSTEM_POLL_S = 1.0  # besides MAVSDK's new-system events: a system's autopilot shows later


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
        check_sysid(drone_id, sysid)
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
        self.texts = StatusTexts()
        self._position_rate_hz = position_rate_hz
        self._heartbeat_timeout_s = heartbeat_timeout_s
        self.state = DroneState(drone_id=drone_id, link=LinkState.CONNECTING)
        self.lost_cause = "no heartbeat"
        self._system: Any = None
        self._commands: VehicleCommands | None = None  # the latest session's
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
        await wait_up(self._connected, timeout_s, self.drone_id, self.url)

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
        self._commands = VehicleCommands(self.drone_id, self.sysid, system, lambda: self.state)
        telemetry = TelemetryAsync(system)
        self._set_link(LinkState.UP)
        try:
            await telemetry.set_rate_position(self._position_rate_hz)
        except MavsdkError as exc:
            logger.warning("%s: could not set position rate: %s", self.drone_id, exc)
        try:
            async with asyncio.TaskGroup() as tg:
                for name, coro in self._subscriptions(system, telemetry, self._commands):
                    tg.create_task(coro, name=f"{self.drone_id}: {name}")
        finally:
            self._connected.clear()
            self._system = None

    def _subscriptions(
        self, system: Any, tel: TelemetryAsync, commands: VehicleCommands
    ) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        return [
            ("connection", self._follow(system.is_connected_state(), self._connection)),
            *((name, self._fold_all(stream(tel), fold)) for name, stream, fold in STREAMS),
            ("status text", self._follow(tel.subscribe_status_text(), self._status_text)),
            ("limits", self._read_limits(ParamAsync(system))),
            (
                "mission",
                self._follow(commands.mission.subscribe_mission_progress(), self._progress),
            ),
        ]

    @staticmethod
    async def _follow(stream: AsyncIterator[Any], handle: Callable[[Any], None]) -> None:
        async for item in stream:
            handle(item)

    async def _fold_all(self, stream: AsyncIterator[Any], fold: FoldOf) -> None:
        async for item in stream:
            self._apply(fold(self.state, item))

    async def _read_limits(self, param: ParamAsync) -> None:
        self.limits = await read_limits(self.drone_id, param)
        if self._on_limits is not None:
            self._on_limits(self.limits)

    # -- telemetry folding -------------------------------------------------------------

    def _apply(self, fold: Fold | None) -> None:
        if fold is not None:
            self._update(fold.publish, **fold.changes)

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

    def _status_text(self, text: Any) -> None:
        message = str(text.text).strip()  # PX4 ends most texts with a tab
        severity = getattr(text.type, "name", str(text.type)).lower()
        self.texts.add(message)
        self._update(publish=False, status_text=message)
        logger.info("%s: vehicle says [%s] %s", self.drone_id, severity, message)
        if self._on_status_text is not None:
            self._on_status_text(severity, message)

    def _progress(self, progress: Any) -> None:
        if self._on_mission_progress is not None:
            self._on_mission_progress(MissionProgress(progress.current, progress.total))

    @property
    def status_count(self) -> int:
        """STATUSTEXTs received so far."""
        return self.texts.count

    def texts_since(self, count: int) -> list[str]:
        """The vehicle's STATUSTEXTs received after the ``count``-th one (the recent ones)."""
        return self.texts.since(count)

    # -- commands ----------------------------------------------------------------------

    def _vehicle(self) -> VehicleCommands:
        if self.state.link is not LinkState.UP or self._commands is None:
            raise LinkError(self.drone_id, f"link is {self.state.link}: cannot send commands")
        return self._commands

    async def arm(self) -> None:
        await self._vehicle().arm()

    async def takeoff(self) -> None:
        await self._vehicle().takeoff()

    async def hold(self) -> None:
        await self._vehicle().hold()

    async def return_to_launch(self) -> None:
        await self._vehicle().return_to_launch()

    async def disarm(self) -> None:
        await self._vehicle().disarm()

    async def land(self) -> None:
        await self._vehicle().land()

    async def set_speed(self, speed_mps: float) -> None:
        await self._vehicle().set_speed(speed_mps)

    async def upload_mission(self, items: Sequence[MissionItemLike]) -> None:
        await self._vehicle().upload_mission(items)

    async def upload_geofence(self, items: Sequence[MissionItemLike]) -> None:
        await self._vehicle().upload_geofence(items)

    async def start_mission(self) -> None:
        await self._vehicle().start_mission()

    async def reposition(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, speed_mps: float | None = None
    ) -> None:
        """Fly to the point and hold there (see :meth:`VehicleCommands.reposition`)."""
        await self._vehicle().reposition(lat_deg, lon_deg, alt_amsl_m, speed_mps)

    async def orbit(
        self, lat_deg: float, lon_deg: float, alt_amsl_m: float, radius_m: float, speed_mps: float
    ) -> None:
        """Circle the point, nose to centre (see :meth:`VehicleCommands.orbit`)."""
        await self._vehicle().orbit(lat_deg, lon_deg, alt_amsl_m, radius_m, speed_mps)
