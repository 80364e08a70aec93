"""The service: wires the parts together and owns the one task group.

``async with Service(settings, site) as service:`` opens the store, starts one
:class:`DroneLink` per drone of the site (each a named task in the group), and folds
their telemetry into positions on the event bus. Leaving the block stops the links and
closes the store; it never commands a vehicle.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dfr.auth.tokens import Principal, Role, TokenRegistry
from dfr.bus import EventBus, Topic, make_message
from dfr.config import Settings
from dfr.dispatch.dispatcher import Decision, Outcome, decide
from dfr.dispatch.incidents import IntakeResult, take_call
from dfr.dispatch.intake import CallData
from dfr.errors import ConfigError, InvalidInput, InvalidStateError, NotFound
from dfr.fleet.drone_state import DroneState
from dfr.fleet.link import DroneLink, LinkWarning, MissionProgress
from dfr.fleet.monitor import AlertSpec
from dfr.fleet.sorties import Sorties
from dfr.planning.planner import Planner
from dfr.planning.vehicle_limits import VehicleLimits, disagreements
from dfr.planning.wind import Wind
from dfr.site import Drone, Site
from dfr.store import SqliteStore, Store
from dfr.records import Flight, Incident, IncidentStatus
from dfr.timestamps import iso_utc
from dfr.video.recordings import FlightRecordings
from dfr.video.relay import DroneVideo

logger = logging.getLogger(__name__)

QUEUE_SWEEP_S = 5.0
AIRSPACE_REFRESH_S = 30.0
AIRSPACE_LOOKAHEAD = timedelta(seconds=60)
DISPATCHABLE = frozenset({IncidentStatus.NEW, IncidentStatus.AWAITING_PILOT, IncidentStatus.QUEUED})


def shift_port(url: str, offset: int) -> str:
    """``udpin://0.0.0.0:14540`` + 5 → ``udpin://0.0.0.0:14545`` (for side-by-side fleets)."""
    if offset == 0:
        return url
    parts = urlsplit(url)
    if parts.port is None or parts.hostname is None:
        raise ConfigError(f"cannot shift the port of {url!r}: it has no host:port")
    port = parts.port + offset
    if not 0 < port < 65536:
        raise ConfigError(f"port offset {offset} takes {url!r} out of range (port {port})")
    netloc = f"{parts.hostname}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _num(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


class Service:
    def __init__(
        self,
        settings: Settings,
        site: Site,
        *,
        store: Store | None = None,
        tokens: TokenRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.site = site
        self.store: Store = store or SqliteStore(settings.db_path)
        self.bus = EventBus()
        self.tokens = tokens or TokenRegistry()
        self.links: dict[str, DroneLink] = {}
        self.drones: dict[str, Drone] = {d.id: d for d in site.drones}
        self.planner = Planner.from_site(site)
        self.wind = Wind(settings.wind_from_deg, settings.wind_speed_mps)
        self.sorties = Sorties(
            site=site,
            store=self.store,
            planner=self.planner,
            links=self.links,
            publish_event=self.publish_event,
            wind=lambda: self.wind,
            on_drone_free=self._drone_free,
            on_flight_start=self._flight_started,
            on_flight_end=self._flight_ended,
        )
        self.videos: dict[str, DroneVideo] = {}
        self.recordings = FlightRecordings(
            self.store, self.videos, settings.data_dir / "recordings", self.publish_event
        )
        self._stack = AsyncExitStack()
        self._dispatch_lock = asyncio.Lock()
        self._queue_changed = asyncio.Event()
        self._group: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self.pilot_token: str | None = None
        self.started_at = datetime.now(UTC)

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Service:
        # every URL is checked before anything is opened: a bad site fails fast and clean
        urls = {
            d.id: (
                shift_port(d.mavlink_url, self.settings.mavlink_port_offset),
                shift_port(d.video_url, self.settings.mavlink_port_offset) if d.video_url else "",
            )
            for d in self.site.drones
        }
        try:
            return await self._start(urls)
        except BaseException as exc:
            await self.__aexit__(type(exc), exc, exc.__traceback__)
            raise

    async def _start(self, urls: dict[str, tuple[str, str]]) -> Service:
        loop = asyncio.get_running_loop()
        # MAVSDK's asyncio wrapper runs every blocking call in the default executor; a
        # command can hold a thread for ~2 s, so give each drone a few.
        self._executor = ThreadPoolExecutor(
            max_workers=8 + 3 * len(self.site.drones), thread_name_prefix="dfr-mavsdk"
        )
        loop.set_default_executor(self._executor)
        self._setup_tokens()
        await self.store.open()
        if self.settings.video:
            for drone in self.site.drones:
                if urls[drone.id][1]:
                    video = DroneVideo(
                        drone.id, urls[drone.id][1], source=drone.allowed_video_source
                    )
                    self.videos[drone.id] = await self._stack.enter_async_context(video)
        # building the visibility graph takes a moment for large airspaces: off the loop
        await asyncio.to_thread(self.planner.prepare)
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        for drone in self.site.drones:
            link = DroneLink(
                drone.id,
                urls[drone.id][0],
                on_state=self._on_drone_state,
                on_mission_progress=self._progress_handler(drone.id),
                on_limits=self._limits_handler(drone.id),
                on_status_text=self._status_text_handler(drone.id),
                on_link_warning=self._link_warning_handler(drone.id),
                sysid=drone.sysid,
                position_rate_hz=self.settings.position_rate_hz,
            )
            self.links[drone.id] = link
            self.spawn(link.run(), f"{drone.id}: link")
        self.sorties.attach(self.spawn)
        self.spawn(self._queue_loop(), "dispatch: queue")
        self.spawn(self._airspace_loop(), "planner: airspace windows")
        crash_left = await self.recordings.crash_left()  # before resumed flights record
        resumed = await self.sorties.resume()
        if crash_left:
            self.spawn(self.recordings.recover(crash_left), "recordings: recovery")
        if resumed:
            logger.info("service: resumed %d active flights: %s", len(resumed), ", ".join(resumed))
        logger.info("service: site %s, %d drones", self.site.name, len(self.links))
        return self

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as a named task of the service's group (cancelled on shutdown)."""
        if self._group is None:
            coro.close()
            raise InvalidStateError("the service is not running")
        task = self._group.create_task(self._guarded(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _guarded(coro: Coroutine[Any, Any, Any], name: str) -> None:
        """One task's failure is logged, never the end of the service's task group."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s: failed", name)

    def _status_text_handler(self, drone_id: str) -> Callable[[str, str], None]:
        def handle(severity: str, text: str) -> None:
            self.sorties.on_status_text(drone_id, severity, text)

        return handle

    def _link_warning_handler(self, drone_id: str) -> Callable[[LinkWarning], None]:
        def handle(warning: LinkWarning) -> None:
            self.spawn(self._link_alert(drone_id, warning), f"{drone_id}: link warning")

        return handle

    async def _link_alert(self, drone_id: str, warning: LinkWarning) -> None:
        """A drone-level alert (no flight): recorded, and on /ws/events as ``alert``."""
        active = self.sorties.flight_of_drone(drone_id)
        flight = active.record.id if active is not None else None
        alert = await self.store.add_alert(
            drone_id=drone_id,
            flight_id=flight,
            kind=warning.kind,
            severity="warning",
            message=warning.message,
            action=warning.action,
            at=warning.at,
        )
        self.publish_event(
            {
                "type": "alert",
                "alert_id": alert.id,
                "drone_id": drone_id,
                "flight_id": flight,
                "kind": warning.kind,
                "severity": "warning",
                "message": warning.message,
                "action": warning.action,
            }
        )

    def _progress_handler(self, drone_id: str) -> Callable[[MissionProgress], None]:
        def handle(progress: MissionProgress) -> None:
            self.sorties.on_mission_progress(drone_id, progress.current, progress.total)

        return handle

    def _limits_handler(self, drone_id: str) -> Callable[[VehicleLimits], None]:
        def handle(limits: VehicleLimits) -> None:
            self.planner.set_vehicle_limits(drone_id, limits)
            notes = disagreements(self.drones[drone_id].performance, limits)
            for note in notes:
                logger.warning("%s: %s", drone_id, note)
            self.publish_event(
                {
                    "type": "vehicle_limits",
                    "drone_id": drone_id,
                    "limits": asdict(limits),
                    "disagreements": notes,
                }
            )

        return handle

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.sorties.flush_tracks()
        except Exception:
            logger.exception("track points lost at shutdown")
        # keep what was recorded so far; a restart records the rest as a new part
        await self.recordings.end_all([a.record for a in self.sorties.active.values()])
        group, self._group = self._group, None
        self.bus.close_all()
        try:
            if group is not None:
                for task in list(self._tasks):
                    task.cancel()
                await group.__aexit__(None, None, None)
        finally:
            try:
                await self._stack.aclose()
            finally:
                await self.store.close()

    def _setup_tokens(self) -> None:
        if self.settings.api_token is not None:
            self.tokens.add(
                self.settings.api_token.get_secret_value(), Principal("automation", Role.PILOT)
            )
            self.pilot_token = self.settings.api_token.get_secret_value()
        else:
            self.pilot_token = self.tokens.issue("automation", Role.PILOT)
        if self.settings.viewer_token is not None:
            self.tokens.add(
                self.settings.viewer_token.get_secret_value(), Principal("viewer", Role.VIEWER)
            )

    # -- telemetry ---------------------------------------------------------------------

    def position_message(self, state: DroneState) -> dict[str, Any]:
        active = self.sorties.flight_of_drone(state.drone_id)
        return {
            "type": "position",
            "drone_id": state.drone_id,
            "t": iso_utc(state.updated_at or datetime.now(UTC)),
            "lat": _num(state.lat_deg, 7),
            "lon": _num(state.lon_deg, 7),
            "alt_amsl_m": _num(state.alt_amsl_m, 2),
            "alt_rel_m": _num(state.alt_rel_m, 2),
            "heading_deg": _num(state.heading_deg, 1),
            "ground_speed_mps": _num(state.ground_speed_mps, 2),
            "battery_pct": _num(state.battery_pct, 1),
            "mode": state.mode,
            "armed": state.armed,
            "landed": state.landed.value,
            "link": state.link.value,
            "health_ok": state.health_ok,
            "armable": state.armable,
            "flight_id": active.record.id if active else None,
            "phase": active.flight.phase.value if active else "docked",
        }

    def _on_drone_state(self, state: DroneState) -> None:
        self.sorties.on_state(state)
        self.bus.publish(
            make_message(
                Topic.TELEMETRY, self.position_message(state), published_ns=time.monotonic_ns()
            )
        )

    def publish_event(self, body: dict[str, Any]) -> None:
        body.setdefault("t", iso_utc(datetime.now(UTC)))
        self.bus.publish(make_message(Topic.EVENTS, body, published_ns=time.monotonic_ns()))

    # -- calls -------------------------------------------------------------------------

    async def take_call(self, call: CallData) -> IntakeResult:
        result = await take_call(self.store, call, datetime.now(UTC))
        incident = result.incident
        if result.created:
            self.publish_event(
                {
                    "type": "incident",
                    "incident_id": incident.id,
                    "cad_id": incident.cad_id,
                    "status": incident.status.value,
                    "priority": incident.priority,
                    "nature": incident.nature,
                    "lat": incident.lat_deg,
                    "lon": incident.lon_deg,
                }
            )
        elif result.changed:
            self.publish_event(
                {
                    "type": "incident_updated",
                    "incident_id": incident.id,
                    "cad_id": incident.cad_id,
                    "changed": list(result.changed),
                    "status": incident.status.value,
                    "message": (
                        "the CAD reported a new location for an incident being flown; "
                        "the drone keeps its target until a pilot retargets it"
                        if result.pending_location
                        else f"call updated: {', '.join(result.changed)}"
                    ),
                }
            )
        if "cancelled" in result.changed:
            await self.sorties.alert_incident_flight(
                incident.id,
                AlertSpec(
                    "call_cancelled",
                    "warning",
                    f"the CAD cancelled call {incident.cad_id}",
                    "the drone stays on task until a pilot sends it home",
                ),
            )
        if result.pending_location:
            await self.sorties.alert_incident_flight(
                incident.id,
                AlertSpec(
                    "location_update",
                    "warning",
                    f"the CAD reports a new location for call {incident.cad_id}: "
                    f"{call.lat_deg:.6f}, {call.lon_deg:.6f}",
                    "not applied automatically; pilot: orbit or go there if it is right",
                ),
            )
        if result.created and incident.status is IncidentStatus.NEW:
            await self.dispatch(incident)
            refreshed = await self.store.get_incident(incident.id)
            if refreshed is not None:
                result = IntakeResult(
                    refreshed, result.created, result.changed, result.pending_location
                )
        return result

    # -- dispatch ------------------------------------------------------------------------

    def states(self) -> dict[str, DroneState]:
        return {drone_id: link.state for drone_id, link in self.links.items()}

    async def dispatch(
        self,
        incident: Incident,
        *,
        pilot: str | None = None,
        drone_id: str | None = None,
    ) -> tuple[Decision, Flight | None]:
        """Rank the fleet for an incident, record the decision, and launch if the policy
        (or the pilot) says so."""
        async with self._dispatch_lock:
            if drone_id is not None and drone_id not in self.links:
                raise NotFound(f"drone {drone_id} does not exist (drones: {', '.join(self.links)})")
            # the incident may have changed while waiting for the lock (a launch by another
            # pilot, a cancel from the CAD): decide on what is stored now
            current = await self.store.get_incident(incident.id)
            if current is None or current.status not in DISPATCHABLE:
                state = current.status if current else "gone"
                if pilot is not None:
                    raise InvalidStateError(
                        f"incident {incident.id} is {state}: it cannot be launched"
                    )
                return Decision(Outcome.QUEUED, None, [], [], 0.0), None
            incident = current
            # the ranking is pure CPU (10-20 ms for 50 drones over 500 zones): off the event
            # loop, so telemetry keeps flowing meanwhile; inputs are snapshots
            decision = await asyncio.to_thread(
                decide,
                self.planner,
                incident,
                self.states(),
                frozenset(self.sorties.busy_drones()),
                self.site.policy,
                wind=self.wind,
                only_drone=drone_id,
                pilot=pilot is not None,
            )
            now = datetime.now(UTC)
            chosen_id = decision.chosen.drone_id if decision.chosen else None
            await self.store.add_decision(
                incident.id,
                outcome=decision.outcome.value,
                chosen_drone_id=chosen_id,
                ranking=decision.ranking,
                rejections=decision.rejections,
                elapsed_ms=decision.elapsed_ms,
                decided_at=now,
            )
            flight = None
            status = {
                Outcome.AUTO_LAUNCH: IncidentStatus.DISPATCHED,
                Outcome.PILOT_LAUNCH: IncidentStatus.DISPATCHED,
                Outcome.AWAITING_PILOT: IncidentStatus.AWAITING_PILOT,
                Outcome.QUEUED: IncidentStatus.QUEUED,
            }[decision.outcome]
            if pilot is not None and decision.chosen is None:
                reasons = "; ".join(f"{r['drone_id']}: {r['reason']}" for r in decision.rejections)
                raise InvalidStateError(
                    f"no drone can launch for {incident.id}: {reasons or 'no drones'}"
                )
            if decision.chosen is not None and status is IncidentStatus.DISPATCHED:
                reason = (
                    f"launched by {pilot}"
                    if pilot
                    else f"auto-launch (priority {incident.priority})"
                )
                flight = await self.sorties.launch(incident.id, decision.chosen, reason)
            await self.store.update_incident(replace(incident, status=status, updated_at=now))
            logger.info(
                "dispatch %s: %s %s (%.1f ms)",
                incident.id,
                decision.outcome,
                chosen_id or "-",
                decision.elapsed_ms,
            )
            self.publish_event(
                {
                    "type": "dispatch",
                    "incident_id": incident.id,
                    "outcome": decision.outcome.value,
                    "chosen_drone_id": chosen_id,
                    "flight_id": flight.id if flight else None,
                    "ranking": decision.ranking,
                    "rejections": decision.rejections,
                    "elapsed_ms": round(decision.elapsed_ms, 2),
                }
            )
            return decision, flight

    async def launch(
        self, incident_id: str, by: str, drone_id: str | None = None, *, divert: bool = False
    ) -> Flight:
        incident = await self.store.get_incident(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} does not exist")
        if divert:
            return await self._divert(incident, by, drone_id)
        _decision, flight = await self.dispatch(incident, pilot=by, drone_id=drone_id)
        assert flight is not None
        return flight

    # -- video -------------------------------------------------------------------------

    def recording_dir(self) -> Path:
        return self.recordings.directory

    def _flight_started(self, flight: Flight) -> None:
        self.recordings.start(flight)

    async def _flight_ended(self, flight: Flight) -> None:
        await self.recordings.end(flight)

    async def _divert(self, incident: Incident, by: str, drone_id: str | None) -> Flight:
        """A pilot takes a flying drone from a less urgent call for this one."""
        if drone_id is None:
            raise InvalidInput("drone_id", "a diversion names the drone to take")
        active = self.sorties.flight_of_drone(drone_id)
        if active is None:
            raise InvalidStateError(f"{drone_id} is not flying: launch it without divert")
        if incident.status not in (
            IncidentStatus.NEW,
            IncidentStatus.AWAITING_PILOT,
            IncidentStatus.QUEUED,
        ):
            raise InvalidStateError(
                f"incident {incident.id} is {incident.status}: it cannot take a drone"
            )
        old = (
            await self.store.get_incident(active.record.incident_id)
            if active.record.incident_id
            else None
        )
        if old is not None and old.priority <= incident.priority:
            raise InvalidStateError(
                f"{drone_id} flies priority-{old.priority} incident {old.id}; only a more urgent call "
                f"(priority < {old.priority}) may take it, this one is {incident.priority}"
            )
        state = self.links[drone_id].state
        if not state.has_position:
            raise InvalidStateError(f"{drone_id} has no position yet")
        route = self.planner.plan_route(
            drone_id,
            incident.lat_deg,
            incident.lon_deg,
            start=(state.lat_deg, state.lon_deg),
            wind=self.wind,
        )
        now = datetime.now(UTC)
        reason = f"diverted by {by} from {old.id if old else 'its flight'} to {incident.id}"
        async with self._dispatch_lock:
            flight = await self.sorties.divert(active, incident.id, route, reason, by)
            await self.store.add_decision(
                incident.id,
                outcome=Outcome.PILOT_LAUNCH.value,
                chosen_drone_id=drone_id,
                ranking=[],
                rejections=[],
                elapsed_ms=0.0,
                decided_at=now,
            )
            await self.store.update_incident(
                replace(incident, status=IncidentStatus.DISPATCHED, updated_at=now)
            )
            if old is not None:
                await self.store.update_incident(
                    replace(old, status=IncidentStatus.QUEUED, updated_at=now)
                )
        self.publish_event(
            {
                "type": "dispatch",
                "incident_id": incident.id,
                "outcome": "diverted",
                "chosen_drone_id": drone_id,
                "flight_id": flight.id,
                "from_incident_id": old.id if old else None,
            }
        )
        if old is not None:  # the call it left behind looks for another drone
            refreshed = await self.store.get_incident(old.id)
            if refreshed is not None:
                await self.dispatch(refreshed)
        return flight

    def _drone_free(self, drone_id: str) -> None:
        """A flight ended: look at the queue again once the drone has settled."""
        self._queue_changed.set()

    async def _queue_loop(self) -> None:
        """Serve queued calls, most urgent and oldest first, whenever a drone may have become
        able to take one: after a flight, and when the fleet's readiness changes (a link
        back, a drone armable again, the wind dropping)."""
        last: tuple[Any, ...] = ()
        while True:
            try:
                async with asyncio.timeout(QUEUE_SWEEP_S):
                    await self._queue_changed.wait()
                await asyncio.sleep(1.0)  # let a landed drone's state settle (disarmed, on ground)
            except TimeoutError:
                pass
            triggered = self._queue_changed.is_set()
            self._queue_changed.clear()
            readiness = self._readiness()
            if not triggered and readiness == last:
                continue
            last = readiness
            try:
                await self.serve_queue()
            except Exception:
                logger.exception("serving the queue failed; trying again later")

    async def _airspace_loop(self) -> None:
        """Time-windowed zones (a stadium TFR during an event) change the obstacles; build
        the graph for now and for a minute ahead in a worker thread, so the event loop's
        planner calls (monitor, commands) always find it ready in the cache."""
        while True:
            now = datetime.now(UTC)
            for at in (now, now + AIRSPACE_LOOKAHEAD):
                try:
                    await asyncio.to_thread(self.planner.prepare, at)
                except Exception:
                    logger.exception("preparing the airspace for %s failed", at.isoformat())
            await asyncio.sleep(AIRSPACE_REFRESH_S)

    def _readiness(self) -> tuple[Any, ...]:
        busy = self.sorties.busy_drones()
        return (
            self.wind,
            tuple(
                (
                    d,
                    s.link,
                    d in busy,
                    s.armable,
                    s.health_ok,
                    s.landed,
                    round(s.battery_pct / 5) if math.isfinite(s.battery_pct) else -1,
                )
                for d, s in sorted(self.states().items())
            ),
        )

    async def serve_queue(self) -> None:
        waiting = await self.store.list_incidents(status=IncidentStatus.QUEUED)
        waiting += await self.store.list_incidents(status=IncidentStatus.NEW)  # e.g. after a crash
        for incident in sorted(waiting, key=lambda i: (i.priority, i.received_at)):
            await self.dispatch(incident)
