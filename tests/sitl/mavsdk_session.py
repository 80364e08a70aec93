"""A real mavsdk 4.x ground-station session against one simulated vehicle, for the SITL tests.

``MavsdkSession`` owns one ``Mavsdk`` instance (sysid 245 / compid 190, like every MAVSDK
ground station), listens with ``udpin://127.0.0.1:<api port>`` exactly as the service does,
builds the plugins the tests use, and records every flight-mode, landed-state and armed
transition MAVSDK reports (``Watched``), so a test can assert the whole sequence afterwards
even when a state lasted less than one telemetry period at a high speed factor.

Everything waits on telemetry conditions under ``asyncio.timeout``; nothing sleeps and
asserts. The timeouts only bound a hang: tests never assert how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mavsdk.asyncio import ComponentType, Configuration, Mavsdk
from mavsdk.asyncio.plugins.action import ActionAsync
from mavsdk.asyncio.plugins.failure import FailureAsync
from mavsdk.asyncio.plugins.geofence import GeofenceAsync
from mavsdk.asyncio.plugins.mavlink_direct import MavlinkDirectAsync, MavlinkMessage
from mavsdk.asyncio.plugins.mission import MissionAsync
from mavsdk.asyncio.plugins.param import ParamAsync
from mavsdk.asyncio.plugins.telemetry import (
    FlightMode,
    LandedState,
    Position,
    TelemetryAsync,
    VelocityNed,
)

from tests.ports import free_port_offset

logger = logging.getLogger(__name__)

T = TypeVar("T")

EARTH_RADIUS_M = 6_371_000.0
MAV_FRAME_GLOBAL = 0
MAV_FRAME_GLOBAL_RELATIVE_ALT = 3
MAV_FRAME_GLOBAL_INT = 5
MAV_CMD_DO_ORBIT = 34
MAV_CMD_DO_REPOSITION = 192
MAV_RESULT_ACCEPTED = 0
MAV_RESULT_COMMAND_UNSUPPORTED_MAV_FRAME = 9

# Bounds on waiting for a condition, in wall seconds. They only stop a hung test.
CONNECT_TIMEOUT_S = 20.0
STEP_TIMEOUT_S = 30.0
FLIGHT_TIMEOUT_S = 90.0


def distance_m(lat1_deg: float, lon1_deg: float, lat2_deg: float, lon2_deg: float) -> float:
    """Great-circle (haversine) distance between two WGS84 points."""
    p1, p2 = math.radians(lat1_deg), math.radians(lat2_deg)
    dp, dl = p2 - p1, math.radians(lon2_deg - lon1_deg)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def offset_deg(
    lat_deg: float, lon_deg: float, north_m: float, east_m: float
) -> tuple[float, float]:
    """The point ``north_m``/``east_m`` away from (lat, lon) on a local flat patch."""
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat_deg))))
    return lat_deg + dlat, lon_deg + dlon


def closest_approach_m(track: Sequence[Position], lat_deg: float, lon_deg: float) -> float:
    """Smallest distance from a point to a recorded track, segments between samples included
    (positions arrive at a fixed real-time rate, so at high speed factors samples are far
    apart and a waypoint can lie between two of them)."""
    best = math.inf
    cos_lat = math.cos(math.radians(lat_deg))

    def local(p: Position) -> tuple[float, float]:
        north = math.radians(p.latitude_deg - lat_deg) * EARTH_RADIUS_M
        east = math.radians(p.longitude_deg - lon_deg) * EARTH_RADIUS_M * cos_lat
        return north, east

    points = [local(p) for p in track]
    for (n1, e1), (n2, e2) in itertools.pairwise(points):
        dn, de = n2 - n1, e2 - e1
        length_sq = dn * dn + de * de
        t = 0.0 if length_sq == 0 else max(0.0, min(1.0, -(n1 * dn + e1 * de) / length_sq))
        best = min(best, math.hypot(n1 + t * dn, e1 + t * de))
    if len(points) == 1:
        best = math.hypot(*points[0])
    return best


def ground_speed_mps(velocity: VelocityNed) -> float:
    return math.hypot(velocity.north_m_s, velocity.east_m_s)


class Watched(Generic[T]):
    """The latest value of one telemetry stream plus every distinct value it went through."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.history: list[T] = []
        self.latest: T | None = None
        self.updates = 0
        self._changed = asyncio.Condition()

    async def push(self, value: T) -> None:
        async with self._changed:
            self.latest = value
            self.updates += 1
            if not self.history or self.history[-1] != value:
                self.history.append(value)
                logger.debug("%s -> %s", self.name, value)
            self._changed.notify_all()

    async def wait_until(
        self, predicate: Callable[[T], bool], timeout_s: float = STEP_TIMEOUT_S, what: str = ""
    ) -> T:
        """The first value (current included) that satisfies ``predicate``."""
        try:
            async with asyncio.timeout(timeout_s), self._changed:
                while self.latest is None or not predicate(self.latest):
                    await self._changed.wait()
                return self.latest
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: {what or 'condition'} not reached within {timeout_s} s "
                f"(latest {self.latest!r}, seen {self.history[-12:]!r})"
            ) from None

    async def wait_updates(self, count: int, timeout_s: float = STEP_TIMEOUT_S) -> T:
        """Wait until ``count`` more values arrived (lets simulated time pass, no sleeping)."""
        target = self.updates + count
        try:
            async with asyncio.timeout(timeout_s), self._changed:
                while self.updates < target or self.latest is None:
                    await self._changed.wait()
                return self.latest
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: only {self.updates - target + count} of {count} updates "
                f"within {timeout_s} s"
            ) from None

    async def wait_for(self, value: T, timeout_s: float = STEP_TIMEOUT_S) -> T:
        return await self.wait_until(lambda v: v == value, timeout_s, what=f"== {value!r}")

    def mark(self) -> int:
        """Index into ``history`` from which ``since`` reads (the current value included)."""
        return max(len(self.history) - 1, 0)

    def since(self, mark: int) -> list[T]:
        return list(self.history[mark:])


def is_subsequence(wanted: Sequence[Any], seen: Sequence[Any]) -> bool:
    """True if ``wanted`` appears in ``seen`` in order (other values may sit between)."""
    it = iter(seen)
    return all(any(w == s for s in it) for w in wanted)


@dataclass(frozen=True, slots=True)
class CommandAck:
    """The final COMMAND_ACK of a command sent through MavlinkDirect."""

    command: int
    result: int
    fields: dict[str, Any]


class MavsdkSession:
    """One MAVSDK ground station connected to one vehicle; an async context manager."""

    def __init__(self, api_port: int, *, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.api_port = api_port
        self.connect_timeout_s = connect_timeout_s
        self.mode: Watched[FlightMode] = Watched(f"{api_port}: flight_mode")
        self.landed: Watched[LandedState] = Watched(f"{api_port}: landed_state")
        self.armed: Watched[bool] = Watched(f"{api_port}: armed")
        self.position: Watched[Position] = Watched(f"{api_port}: position")
        self.health_ok: Watched[bool] = Watched(f"{api_port}: health_all_ok")
        self.velocity: Watched[VelocityNed] = Watched(f"{api_port}: velocity_ned")
        self._tasks: set[asyncio.Task[None]] = set()
        self._mavsdk: Mavsdk | None = None
        self._plugins: list[Any] = []

    async def __aenter__(self) -> MavsdkSession:
        config = Configuration.create_with_component_type(ComponentType.GROUND_STATION)
        self._mavsdk = Mavsdk(config)
        try:
            await self._mavsdk.add_any_connection(f"udpin://127.0.0.1:{self.api_port}")
            system = await self._mavsdk.first_autopilot(timeout_s=self.connect_timeout_s)
            if system is None:
                raise AssertionError(
                    f"no autopilot heard on udpin://127.0.0.1:{self.api_port} "
                    f"within {self.connect_timeout_s} s"
                )
            self.system = system
            self.action = ActionAsync(system)
            self.telemetry = TelemetryAsync(system)
            self.mission = MissionAsync(system)
            self.geofence = GeofenceAsync(system)
            self.param = ParamAsync(system)
            self.failure = FailureAsync(system)
            self.direct = MavlinkDirectAsync(system)
            self._plugins = [
                self.action,
                self.telemetry,
                self.mission,
                self.geofence,
                self.param,
                self.failure,
                self.direct,
            ]
            tel = self.telemetry
            self.watch(self.mode, tel.subscribe_flight_mode)
            self.watch(self.landed, tel.subscribe_landed_state)
            self.watch(self.armed, tel.subscribe_armed)
            self.watch(self.position, tel.subscribe_position)
            self.watch(self.health_ok, tel.subscribe_health_all_ok)
            self.watch(self.velocity, tel.subscribe_velocity_ned)
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop watching and destroy the Mavsdk instance (idempotent); frees the UDP port."""
        await self._close()

    async def _close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for plugin in self._plugins:
            plugin.destroy()
        self._plugins.clear()
        if self._mavsdk is not None:
            self._mavsdk.destroy()
            self._mavsdk = None

    def watch(self, watched: Watched[T], subscribe: Callable[[], AsyncIterator[T]]) -> None:
        async def pump() -> None:
            stream = subscribe()
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for value in stream:
                    await watched.push(value)

        task = asyncio.get_running_loop().create_task(pump(), name=watched.name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s stopped: %r", task.get_name(), task.exception())

    # -- waiting helpers ------------------------------------------------------------------

    async def wait_health_all_ok(self, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        await self.health_ok.wait_for(True, timeout_s)

    async def wait_armable(self, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        async with asyncio.timeout(timeout_s):
            async with contextlib.aclosing(self.telemetry.subscribe_health()) as stream:
                async for health in stream:
                    if health.is_armable:
                        return

    async def wait_alt_rel(
        self, predicate: Callable[[float], bool], timeout_s: float = STEP_TIMEOUT_S, what: str = ""
    ) -> Position:
        return await self.position.wait_until(
            lambda p: predicate(p.relative_altitude_m), timeout_s, what or "relative altitude"
        )

    async def wait_near(
        self, lat_deg: float, lon_deg: float, within_m: float, timeout_s: float = FLIGHT_TIMEOUT_S
    ) -> Position:
        return await self.position.wait_until(
            lambda p: distance_m(p.latitude_deg, p.longitude_deg, lat_deg, lon_deg) <= within_m,
            timeout_s,
            f"within {within_m} m of {lat_deg:.6f},{lon_deg:.6f}",
        )

    async def wait_ground_speed(
        self, predicate: Callable[[float], bool], timeout_s: float = STEP_TIMEOUT_S, what: str = ""
    ) -> float:
        v = await self.velocity.wait_until(
            lambda v: predicate(ground_speed_mps(v)), timeout_s, what or "ground speed"
        )
        return ground_speed_mps(v)

    async def wait_landed_disarmed(self, timeout_s: float = FLIGHT_TIMEOUT_S) -> None:
        await self.landed.wait_for(LandedState.ON_GROUND, timeout_s)
        await self.armed.wait_for(False, timeout_s)

    async def take_off(self, alt_rel_m: float) -> None:
        """Arm, take off, and wait for Hold at ``alt_rel_m`` above home (already set)."""
        await self.action.arm()
        await self.action.takeoff()
        await self.wait_alt_rel(lambda alt: alt >= alt_rel_m - 0.5, what=f">= {alt_rel_m} m")
        await self.mode.wait_for(FlightMode.HOLD)
        await self.landed.wait_for(LandedState.IN_AIR)

    # -- MavlinkDirect COMMAND_INT ------------------------------------------------------------

    async def command_int(
        self,
        command: int,
        *,
        frame: int,
        params: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
        lat_deg: float = 0.0,
        lon_deg: float = 0.0,
        z: float = 0.0,
    ) -> CommandAck:
        """Send COMMAND_INT through MavlinkDirect and return the final COMMAND_ACK."""
        sysid = await self.system.get_system_id()
        fields = {
            "target_system": sysid,
            "target_component": 1,
            "frame": frame,
            "command": command,
            "current": 0,
            "autocontinue": 0,
            "param1": params[0],
            "param2": params[1],
            "param3": params[2],
            "param4": params[3],
            "x": round(lat_deg * 1e7),
            "y": round(lon_deg * 1e7),
            "z": z,
        }
        message = MavlinkMessage(
            message_name="COMMAND_INT",
            target_system_id=sysid,
            target_component_id=1,
            fields_json=json.dumps(fields),
        )
        ack = await self.direct.send_command(message)
        ack_fields: dict[str, Any] = json.loads(ack.fields_json) if ack.fields_json else {}
        if "result" not in ack_fields:
            raise AssertionError(f"no COMMAND_ACK for command {command}: {ack}")
        return CommandAck(command=command, result=int(ack_fields["result"]), fields=ack_fields)

    async def reposition(
        self,
        lat_deg: float,
        lon_deg: float,
        alt_amsl_m: float,
        *,
        frame: int = MAV_FRAME_GLOBAL_INT,
    ) -> CommandAck:
        """DO_REPOSITION like the service sends it: default speed, switch to Hold, z AMSL."""
        return await self.command_int(
            MAV_CMD_DO_REPOSITION,
            frame=frame,
            params=(-1.0, 1.0, 0.0, 0.0),
            lat_deg=lat_deg,
            lon_deg=lon_deg,
            z=alt_amsl_m,
        )

    async def orbit(
        self,
        lat_deg: float,
        lon_deg: float,
        alt_amsl_m: float,
        *,
        radius_m: float,
        speed_mps: float,
        frame: int = MAV_FRAME_GLOBAL_INT,
    ) -> CommandAck:
        """DO_ORBIT around a point; yaw behaviour 0 = hold front to the circle centre."""
        return await self.command_int(
            MAV_CMD_DO_ORBIT,
            frame=frame,
            params=(radius_m, speed_mps, 0.0, 0.0),
            lat_deg=lat_deg,
            lon_deg=lon_deg,
            z=alt_amsl_m,
        )


@contextlib.asynccontextmanager
async def mavsdk_session(api_port: int) -> AsyncIterator[MavsdkSession]:
    async with MavsdkSession(api_port) as session:
        yield session


ZURICH_HOME = (47.397742, 8.545594, 488.0)  # PX4 SITL default home (lat, lon, alt AMSL m)


class SimRig:
    """A simulated fleet (``sitl.fleet.Fleet``) on its own ports, with one session per vehicle."""

    def __init__(
        self,
        *,
        vehicles: int = 1,
        params: dict[str, float] | None = None,
        airframe: str = "sihsim_quadx",
        speed_factor: float = 20.0,
        home: tuple[float, float, float] = ZURICH_HOME,
        spacing_east_m: float = 10.0,
        gcs_link: bool = False,
    ) -> None:
        self.with_gcs_link = gcs_link
        self.vehicle_count = vehicles
        self.params = dict(params or {})
        self.airframe = airframe  # PX4's SIH quad and PX4's defaults unless a test says otherwise
        self.speed_factor = speed_factor
        self.home = home
        self.spacing_east_m = spacing_east_m
        self.port_offset = free_port_offset(vehicles)
        self.sessions: list[MavsdkSession] = []
        self._stack = contextlib.AsyncExitStack()

    def home_of(self, instance: int) -> tuple[float, float, float]:
        lat, lon = offset_deg(self.home[0], self.home[1], 0.0, instance * self.spacing_east_m)
        return lat, lon, self.home[2]

    async def __aenter__(self) -> SimRig:
        from sitl.fleet import Fleet, PortPlan, VehicleSpec, Wind

        specs = []
        for i in range(self.vehicle_count):
            lat, lon, alt_amsl_m = self.home_of(i)
            specs.append(
                VehicleSpec(
                    instance=i,
                    home_lat_deg=lat,
                    home_lon_deg=lon,
                    home_alt_amsl_m=alt_amsl_m,
                    airframe=self.airframe,
                    params=dict(self.params),
                )
            )
        self.ports = PortPlan().shifted(self.port_offset)
        try:
            if self.with_gcs_link:
                from tests.sitl.qgc_link import QgcLink

                transport, self.gcs = await asyncio.get_running_loop().create_datagram_endpoint(
                    QgcLink, local_addr=(self.ports.host, self.ports.gcs_remote)
                )
                self._stack.callback(transport.close)
            self.fleet = await self._stack.enter_async_context(
                Fleet(specs, ports=self.ports, speed_factor=self.speed_factor, wind=Wind())
            )
            for i in range(self.vehicle_count):
                session = MavsdkSession(self.ports.api_remote_base + i)
                self.sessions.append(await self._stack.enter_async_context(session))
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    @property
    def session(self) -> MavsdkSession:
        return self.sessions[0]

    async def reconnect(self, instance: int = 0) -> MavsdkSession:
        """Close vehicle ``instance``'s session and open a fresh one on the same port."""
        await self.sessions[instance].aclose()
        session = MavsdkSession(self.ports.api_remote_base + instance)
        self.sessions[instance] = await self._stack.enter_async_context(session)
        return session

    @property
    def vehicle(self) -> Any:
        return self.fleet.vehicles[0]


REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def refused_action_result(
    api_port: int, what: str, lat_deg: float, lon_deg: float, alt_amsl_m: float
) -> str:
    """Run ``Action.goto_location`` (``what="goto"``) or ``Action.do_orbit`` (``"orbit"``)
    in a throwaway process (see ``tests/sitl/mavsdk_refusal.py`` for why) and return the
    ActionResult name it got. The API port must be free (close the session first)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.sitl.mavsdk_refusal",
        str(api_port),
        what,
        repr(lat_deg),
        repr(lon_deg),
        repr(alt_amsl_m),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(STEP_TIMEOUT_S):
            line = (await proc.stdout.readline()).decode().strip()
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert line.startswith("result "), f"mavsdk_refusal printed {line!r}"
    return line.removeprefix("result ")


async def wait_snapshot(
    vehicle: Any,
    predicate: Callable[[Any], bool],
    timeout_s: float = STEP_TIMEOUT_S,
    what: str = "",
) -> Any:
    """Poll the simulator's own view of a vehicle until ``predicate`` holds (for the times
    MAVSDK cannot see it, e.g. while the radio link is cut)."""
    snap = vehicle.snapshot()
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate(snap):
                await asyncio.sleep(0.02)
                snap = vehicle.snapshot()
    except TimeoutError:
        raise AssertionError(
            f"simulator: {what or 'condition'} not reached; last {snap!r}"
        ) from None
    return snap
