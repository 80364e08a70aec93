"""The service, as the composition root: it builds the parts, owns the one task group,
and starts and stops them; what each part does lives in its own module.

``async with Service(settings, site) as service:`` opens the store and the drones' video,
starts each drone's link (in link worker processes, :mod:`dfr.fleet.link_workers`, or a
:class:`DroneLink` task per drone in this process),
folds their telemetry into positions on the event bus, and starts the sorties' loops,
the dispatch queue and the airspace refresh. Leaving the block stops every task and
closes the store; it never commands a vehicle.

The parts, as attributes: ``store``, ``bus``, ``tokens``, ``planner``, ``links`` (by drone
id), ``sorties`` (flights and pilot commands, :mod:`dfr.fleet.sorties`), ``dock_holds``
(:mod:`dfr.dispatch.dock_holds`), ``desk`` (calls,
decisions, launches and diversions, :mod:`dfr.dispatch.desk`), ``queue``
(:mod:`dfr.dispatch.queue`), ``videos`` and ``recordings`` (:mod:`dfr.video`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dfr.audit.events import audit_event
from dfr.audit.service_runs import record_start, record_stop
from dfr.audit.trail import AuditTrail, open_audit_trail
from dfr.auth.accounts import Accounts
from dfr.auth.api_keys import ApiKeys
from dfr.auth.tokens import Principal, Role, TokenRegistry
from dfr.auth.viewer_links import ViewerLinks
from dfr.bus import Bus, EventBus, Topic, make_message
from dfr.bus_nats import NatsBus
from dfr.config import Settings
from dfr.dispatch.desk import DispatchDesk
from dfr.dispatch.dock_holds import DockHolds
from dfr.dispatch.incidents import IntakeResult
from dfr.dispatch.intake import CallData
from dfr.dispatch.queue import DispatchQueue
from dfr.errors import ConfigError, InvalidStateError
from dfr.fleet.drone_state import DroneState
from dfr.fleet.link import DroneLink
from dfr.fleet.link_types import LinkWarning, MissionProgress
from dfr.fleet.link_workers import LinkWorker, share_out
from dfr.fleet.remote_link import RemoteDroneLink
from dfr.fleet.sorties import Sorties
from dfr.fleet.vehicle_link import VehicleLink
from dfr.instances.leases import Leases, PostgresLeases, SoleLeases
from dfr.instances.mirror_link import MirrorLink
from dfr.instances.owner_calls import OwnerCalls
from dfr.instances.owners import Owners
from dfr.messages import alert_body, dock_hold_body, position_body, vehicle_limits_body
from dfr.planning.planner import Planner
from dfr.planning.vehicle_limits import VehicleLimits, disagreements
from dfr.planning.wind import Wind
from dfr.records import DockHold, Flight
from dfr.site import Drone, Site
from dfr.store import Store
from dfr.store.backend import store_for
from dfr.store.postgres.url import parse_database_url
from dfr.timestamps import iso_utc
from dfr.video.recordings import FlightRecordings
from dfr.video.relay import DroneVideo

logger = logging.getLogger(__name__)

AIRSPACE_REFRESH_S = 30.0
AIRSPACE_LOOKAHEAD = timedelta(seconds=60)


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


def bus_for(settings: Settings, site: Site) -> Bus:
    """The in-process bus, or NATS when ``DFR_BUS_URL`` names a server (several instances)."""
    if settings.bus_url is None:
        return EventBus()
    return NatsBus(
        settings.bus_url,
        site=site.name,
        events_max_age_s=settings.bus_events_max_age_s,
        events_max_bytes=settings.bus_events_max_bytes,
    )


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
        self.store: Store = store or store_for(settings)
        self.bus: Bus = bus_for(settings, site)
        self.tokens = tokens or TokenRegistry()
        self.links: dict[str, VehicleLink] = {}
        self.link_workers: list[LinkWorker] = []
        self.drones: dict[str, Drone] = {d.id: d for d in site.drones}
        self.planner = Planner.from_site(site)
        self.wind = Wind(settings.wind_from_deg, settings.wind_speed_mps)
        self.videos: dict[str, DroneVideo] = {}
        self.audit: AuditTrail | None = None  # opened with the store
        self.api_keys = ApiKeys(self.store)  # machines: dfr key add|list|revoke
        self.viewer_links = ViewerLinks(  # officers: a pilot shares one drone or flight
            self.store,
            default_ttl=timedelta(seconds=site.policy.viewer_link_ttl_s),
            max_ttl=timedelta(seconds=site.policy.viewer_link_max_ttl_s),
        )
        self.accounts = Accounts(
            self.store,
            idle=timedelta(seconds=settings.session_idle_s),
            most=timedelta(seconds=settings.session_max_s),
        )
        self.recordings = FlightRecordings(
            self.store, self.videos, settings.data_dir / "recordings", self.publish_event
        )
        self.queue = DispatchQueue()
        self.dock_holds = DockHolds(
            self.store, [d.id for d in site.docks], on_change=self._dock_hold_changed
        )
        self.sorties = Sorties(
            site=site,
            store=self.store,
            planner=self.planner,
            links=self.links,
            publish_event=self.publish_event,
            wind=lambda: self.wind,
            on_drone_free=self.queue.drone_free,
            on_flight_start=self._flight_started,
            on_flight_end=self._flight_ended,
        )
        # several instances: who owns which drone (one instance: all of them)
        self.leases: Leases = SoleLeases(settings.instance_id, list(self.drones))
        self.owner_calls: OwnerCalls | None = None
        self.owners = Owners(
            sorties=self.sorties,
            store=self.store,
            planner=self.planner,
            links=self.links,
            leases=lambda: self.leases,
            calls=lambda: self.owner_calls,
            wind=lambda: self.wind,
        )
        self.desk = DispatchDesk(
            store=self.store,
            planner=self.planner,
            owners=self.owners,
            policy=site.policy,
            states=self.states,
            wind=lambda: self.wind,
            publish_event=self.publish_event,
            holds=lambda: self.dock_holds.current,
        )
        self._stack = AsyncExitStack()
        self._group: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self.pilot_token: str | None = None
        self.started_at = datetime.now(UTC)
        self._urls: dict[str, tuple[str, str]] = {}  # (MAVLink, video) by drone

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Service:
        # every URL is checked before anything is opened: a bad site fails fast and clean
        offset = self.settings.mavlink_port_offset
        urls = {
            d.id: (
                shift_port(d.mavlink_url, offset),
                shift_port(d.video_url, offset) if d.video_url else "",
            )
            for d in self.site.drones
        }
        try:
            return await self._start(urls)
        except BaseException as exc:
            await self.__aexit__(type(exc), exc, exc.__traceback__)
            raise

    async def _start(self, urls: dict[str, tuple[str, str]]) -> Service:
        self._urls = urls
        if self.settings.link_worker_drones == 0:
            # MAVSDK's asyncio wrapper runs every blocking call in the default executor; a
            # command can hold a thread for ~2 s, so give each drone a few.
            self._executor = ThreadPoolExecutor(
                max_workers=8 + 3 * len(self.site.drones), thread_name_prefix="dfr-mavsdk"
            )
            asyncio.get_running_loop().set_default_executor(self._executor)
        self._setup_tokens()
        await self.store.open()
        await self.dock_holds.load()
        self.audit = open_audit_trail(self.settings.data_dir, self.settings.audit_key_file)
        record_start(self.audit, self.site)
        several = isinstance(self.bus, NatsBus) and self.settings.database_url is not None
        if self.settings.video and not several:
            await self._open_videos({d: video for d, (_mavlink, video) in urls.items() if video})
        # building the visibility graph takes a moment for large airspaces: off the loop
        await asyncio.to_thread(self.planner.prepare)
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        await self.bus.start(self.spawn)  # NATS: connects (a ConfigError if it cannot)
        self.sorties.attach(self.spawn)
        self.spawn(self._airspace_loop(), "planner: airspace windows")
        crash_left = await self.recordings.crash_left()  # before resumed flights record
        if several:
            await self._start_several()
        else:
            self._start_links({d: mavlink for d, (mavlink, _video) in urls.items()})
            self._become_dispatcher()
            resumed = await self.sorties.resume()
            if resumed:
                logger.info(
                    "service: resumed %d active flights: %s", len(resumed), ", ".join(resumed)
                )
        if crash_left:
            self.spawn(self.recordings.recover(crash_left), "recordings: recovery")
        logger.info("service: site %s, %d drones", self.site.name, len(self.links))
        return self

    def _become_dispatcher(self) -> None:
        """This instance runs the dispatch queue (one instance: at once; several: the one
        holding the dispatcher's lease)."""
        self.spawn(self.queue.run(self.desk.serve_queue, self.desk.readiness), "dispatch: queue")

    # -- several instances ---------------------------------------------------------------

    async def _start_several(self) -> None:
        """Share the fleet with other instances: every drone mirrored from its owner's
        positions until this instance holds its lease (:mod:`dfr.instances`)."""
        assert isinstance(self.bus, NatsBus) and self.settings.database_url is not None
        for drone in self.site.drones:
            self.links[drone.id] = MirrorLink(drone.id, drone.mavlink_url, drone.sysid)
        bus = self.bus
        self.owner_calls = OwnerCalls(lambda: bus.client, bus.subjects.site, self.owners.handle)
        leases = PostgresLeases(
            parse_database_url(self.settings.database_url.get_secret_value()),
            site=self.site.name,
            instance_id=self.settings.instance_id,
            drone_ids=list(self.drones),
            poll_s=self.settings.lease_poll_s,
            settle_s=self.settings.lease_settle_s,
        )
        await leases.open()
        self.leases = leases
        self.spawn(self._mirror_positions(), "instances: positions of other owners' drones")
        self.spawn(self._mirror_limits(), "instances: vehicle limits of other owners' drones")
        self.spawn(
            leases.run(self._take_drones, self._become_dispatcher, self._leases_lost),
            "instances: leases",
        )

    async def _take_drones(self, drone_ids: list[str]) -> None:
        """This instance now owns ``drone_ids`` (at start, or from an instance that
        stopped): open their video and links, resume their flights, answer for them."""
        assert self.owner_calls is not None
        if self.settings.video:
            videos = {d: self._urls[d][1] for d in drone_ids if self._urls[d][1]}
            await self._open_videos(videos)
        self._start_links({d: self._urls[d][0] for d in drone_ids})
        resumed = await self.sorties.resume(drone_ids)
        for drone_id in drone_ids:
            subscription = await self.owner_calls.subscribe(drone_id)
            self.spawn(self.owner_calls.serve(drone_id, subscription), f"{drone_id}: requests")
        if resumed:
            logger.info(
                "instances: took over %d active flights: %s", len(resumed), ", ".join(resumed)
            )
        self.queue.look_again()

    def _leases_lost(self, reason: str) -> None:
        """Without its leases this instance cannot show it still owns its drones, and
        another may be taking them: stop (uvicorn ends the service cleanly, which commands
        no vehicle), for the supervisor to start it again."""
        logger.critical("instances: %s; stopping this instance", reason)
        os.kill(os.getpid(), signal.SIGTERM)

    async def _mirror_positions(self) -> None:
        """Other owners' positions (from the bus) into this instance's mirror links."""
        subscription = self.bus.subscribe(Topic.TELEMETRY, latest_only=True)
        try:
            while True:
                for message in await subscription.get_batch():
                    link = self.links.get(message.key)
                    if isinstance(link, MirrorLink):
                        link.update(json.loads(message.text))
        finally:
            self.bus.unsubscribe(subscription)

    async def _mirror_limits(self) -> None:
        """What other owners' vehicles allow (their PX4 parameters): ETAs ranked here are
        planned with the same figures as on the owner."""
        subscription = self.bus.subscribe(Topic.EVENTS, latest_only=False)
        try:
            while True:
                for message in await subscription.get_batch():
                    link = self.links.get(str(message.drone_id))
                    if message.key == "vehicle_limits" and isinstance(link, MirrorLink):
                        link.limits = VehicleLimits(**json.loads(message.text)["limits"])
                        self.planner.set_vehicle_limits(link.drone_id, link.limits)
        finally:
            self.bus.unsubscribe(subscription)

    async def _open_videos(self, urls: dict[str, str]) -> None:
        """One :class:`DroneVideo` per drone that has a video URL, closed on the way out."""
        for drone in self.site.drones:
            if drone.id in urls:
                video = DroneVideo(drone.id, urls[drone.id], source=drone.allowed_video_source)
                self.videos[drone.id] = await self._stack.enter_async_context(video)

    def _start_links(self, urls: dict[str, str]) -> None:
        """One link per drone, its telemetry wired to the sorties, the planner and the bus:
        in link workers of ``link_worker_drones`` drones each, or in this process (0)."""
        per_worker = self.settings.link_worker_drones
        remote: dict[str, RemoteDroneLink] = {}
        for drone in self.site.drones:
            if drone.id not in urls:
                continue
            callbacks: dict[str, Any] = {
                "on_state": self._on_drone_state,
                "on_mission_progress": partial(self._on_mission_progress, drone.id),
                "on_limits": partial(self._on_vehicle_limits, drone.id),
                "on_status_text": partial(self.sorties.on_status_text, drone.id),
                "on_link_warning": partial(self._on_link_warning, drone.id),
            }
            url = urls[drone.id]
            if per_worker == 0:
                local = DroneLink(
                    drone.id,
                    url,
                    sysid=drone.sysid,
                    position_rate_hz=self.settings.position_rate_hz,
                    **callbacks,
                )
                self.links[drone.id] = local
                self.spawn(local.run(), f"{drone.id}: link")
            else:
                far = RemoteDroneLink(drone.id, url, sysid=drone.sysid, **callbacks)
                self.links[drone.id] = remote[drone.id] = far
        if not remote:
            return
        level = logging.getLevelName(logging.getLogger("dfr").getEffectiveLevel())
        first = len(self.link_workers)
        for index, ids in enumerate(share_out(list(remote), per_worker), start=first):
            worker = LinkWorker(
                index,
                [remote[i] for i in ids],
                position_rate_hz=self.settings.position_rate_hz,
                log_level=str(level),
            )
            self.link_workers.append(worker)
            self.spawn(worker.run(), worker.name)

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
        await self.bus.aclose()  # NATS: the events not yet stored, for up to 2 s
        try:
            if group is not None:
                for task in list(self._tasks):
                    task.cancel()
                await group.__aexit__(None, None, None)
        finally:
            try:
                await self._stack.aclose()
            finally:
                await self.leases.aclose()  # the others may take this instance's drones now
                await self.store.close()
                if self.audit is not None:
                    record_stop(self.audit, self.site)
                    self.audit.close()
                    self.audit = None

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

    def _dock_hold_changed(self, dock_id: str, hold: DockHold | None, by: str) -> None:
        self.publish_event(dock_hold_body(dock_id, hold, by=by))
        if hold is None:  # its drones may serve the calls waiting
            self.queue.look_again()

    def _flight_started(self, flight: Flight) -> None:
        self.recordings.start(flight)

    async def _flight_ended(self, flight: Flight) -> None:
        await self.recordings.end(flight)

    # -- what the drones report ------------------------------------------------------

    def states(self) -> dict[str, DroneState]:
        """Every drone's latest state, by drone id."""
        return {drone_id: link.state for drone_id, link in self.links.items()}

    def position_message(self, state: DroneState) -> dict[str, Any]:
        """The drone's ``position`` body, with the flight it flies (if any)."""
        link = self.links.get(state.drone_id)
        if isinstance(link, MirrorLink):  # another instance's drone: as its owner said
            return link.position_body() or position_body(state, flight_id=None, phase="docked")
        active = self.sorties.flight_of_drone(state.drone_id)
        return position_body(
            state,
            flight_id=active.record.id if active else None,
            phase=active.flight.phase.value if active else "docked",
        )

    def _on_drone_state(self, state: DroneState) -> None:
        self.sorties.on_state(state)
        self.bus.publish(
            make_message(
                Topic.TELEMETRY, self.position_message(state), published_ns=time.monotonic_ns()
            )
        )

    def _on_mission_progress(self, drone_id: str, progress: MissionProgress) -> None:
        self.sorties.on_mission_progress(drone_id, progress.current, progress.total)

    def _on_vehicle_limits(self, drone_id: str, limits: VehicleLimits) -> None:
        self.planner.set_vehicle_limits(drone_id, limits)
        notes = disagreements(self.drones[drone_id].performance, limits)
        for note in notes:
            logger.warning("%s: %s", drone_id, note)
        self.publish_event(vehicle_limits_body(drone_id, limits, notes))

    def _on_link_warning(self, drone_id: str, warning: LinkWarning) -> None:
        self.spawn(self._link_alert(drone_id, warning), f"{drone_id}: link warning")

    async def _link_alert(self, drone_id: str, warning: LinkWarning) -> None:
        """A drone-level alert (no flight): recorded, and on /ws/events as ``alert``."""
        active = self.sorties.flight_of_drone(drone_id)
        alert = await self.store.add_alert(
            drone_id=drone_id,
            flight_id=active.record.id if active is not None else None,
            kind=warning.kind,
            severity="warning",
            message=warning.message,
            action=warning.action,
            at=warning.at,
        )
        self.publish_event(alert_body(alert))

    def publish_event(self, body: dict[str, Any]) -> None:
        """An event on ``/ws/events``, stamped ``t`` (now) unless it has one."""
        body.setdefault("t", iso_utc(datetime.now(UTC)))
        if self.audit is not None:
            # written (and its checkpoint flushed) before the event is out; a few ms, and
            # only for the rare events the trail keeps (dispatches, commands, recordings)
            audit_event(self.audit, body)
        self.bus.publish(make_message(Topic.EVENTS, body, published_ns=time.monotonic_ns()))

    # -- calls -------------------------------------------------------------------------

    async def take_call(self, call: CallData) -> IntakeResult:
        """A CAD call, taken by the desk (the API's entry point, where benchmarks time a
        call from intake to decision)."""
        return await self.desk.take_call(call)
