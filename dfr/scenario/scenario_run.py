"""One scenario run, end to end: start what it needs (or use ``--against URL``), run the
timeline, read the outcome from the service, check the expectations, write the report.

Self-started (``--against sim``): the site copy (:mod:`~dfr.scenario.site_copy`) in a
directory of the run's own, ``dfr sim`` on a port offset of its own (``SYS_FAILURE_EN=1``,
no camera unless ``fleet: {camera: true}``), the runner's link relay per drone (and its
video relay), and ``dfr serve`` on a free 127.0.0.1 port with its own data directory and
a rig API key made for the run (``dfr key add --preset rig``). Every process is stopped at the end, also on failure.
Against a running service: the same timeline over its API (an API key of the rig
preset), faults by MAVLink to the vehicles' GCS ports where they can be reached, and no
link cut, camera cut or service kill (those are reported as skipped).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from dfr.errors import DfrError
from dfr.scenario.expectations import Evidence, Verdict, check_all
from dfr.scenario.link_relay import LinkRelay, free_udp_port
from dfr.scenario.recording_playback import play_recordings
from dfr.scenario.report_data import build_report
from dfr.scenario.report_page import render_page
from dfr.scenario.report_picture import draw_flights
from dfr.scenario.rig_processes import Child, rig_key, running
from dfr.scenario.scenario_file import Scenario
from dfr.scenario.service_view import JSON, ServiceView, read_events
from dfr.scenario.site_copy import SITL_API_PORT, SITL_VIDEO_PORT, write_site_copy
from dfr.scenario.timeline import Rig, StepResult, Timeline
from dfr.scenario.vehicle_faults import SITL_GCS_LOCAL_PORT

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 90.0  # real seconds for the service to link every drone
HTTP_TIMEOUT_S = 30.0


class ScenarioRunError(DfrError):
    """The rig could not be brought up (the message says which part, with its log)."""


@dataclass(frozen=True, slots=True)
class ReportPaths:
    json: Path
    picture: Path
    page: Path

    @classmethod
    def for_target(cls, target: Path, name: str, several: bool) -> ReportPaths:
        """``OUT.json`` (one scenario): the report there, PNG and HTML beside it; else a
        directory with ``NAME.json``/``.png``/``.html`` (``report.json`` for a single run)."""
        if target.suffix == ".json" and not several:
            return cls(target, target.with_suffix(".png"), target.with_suffix(".html"))
        stem = "report" if not several else name
        return cls(target / f"{stem}.json", target / f"{stem}.png", target / f"{stem}.html")


@dataclass(frozen=True, slots=True)
class RunOptions:
    speed_factor: float | None = None  # None: the scenario's
    against_url: str | None = None  # None: self-started
    api_key: str | None = None
    port_offset: int = 0  # --against: the vehicles' MAVLink port offset
    relay_offset: int | None = None  # --against: relay vehicle API ports to these + offset
    logs_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class RunOutcome:
    scenario: Scenario
    verdicts: list[Verdict]
    report: JSON
    paths: ReportPaths

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Offsets keep every simulator port below Linux's ephemeral range (32768-60999, where
# the kernel hands out the ports of sockets bound to port 0, e.g. the service's relay
# sides): a port there can be taken by anyone between the check and the bind.
SIM_OFFSET_MIN = 200
SIM_OFFSET_MAX = 14000  # 18570 + 14000 + a fleet of < 198 stays below 32768
_reserved_ports: set[int] = set()  # handed to runs of this process (--jobs) not yet bound


def pick_sim_offset(count: int) -> int:
    """A MAVLink port offset whose ports are free now and not handed to another run of
    this process (runs can go side by side)."""
    for _ in range(50):
        offset = random.randrange(SIM_OFFSET_MIN, SIM_OFFSET_MAX, 20)
        ports = [
            p + offset + i
            for p in (SITL_API_PORT, SITL_GCS_LOCAL_PORT, 14580, SITL_VIDEO_PORT)
            for i in range(count)
        ] + [14550 + offset]
        if _reserved_ports.isdisjoint(ports) and all(_udp_free(p) for p in ports):
            _reserved_ports.update(ports)
            return offset
    raise ScenarioRunError("no free MAVLink port range found for the simulator")


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(view: ServiceView, rig: Rig, children: list[Child]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not await view.drones_ready(rig.drone_ids):
        for child in children:
            if not child.running:
                raise ScenarioRunError(f"{child.name} exited:\n{child.log_tail()}")
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {c.name}\n{c.log_tail()}" for c in children)
            raise ScenarioRunError(f"drones not ready after {READY_TIMEOUT_S:g} s\n{tails}")
        await asyncio.sleep(0.25)


@contextlib.asynccontextmanager
async def _self_started(
    scenario: Scenario, speed: float, work: Path, logs: Path
) -> AsyncIterator[tuple[ServiceView, Rig, str, dict[str, str]]]:
    ids = write_site_copy(scenario, work / "site", None, 0).drone_ids
    offset = pick_sim_offset(len(ids))
    service_ports = [free_udp_port() for _ in ids]
    camera = scenario.fleet.camera
    video_ports = [free_udp_port() for _ in ids] if camera else None
    copy = write_site_copy(scenario, work / "site", service_ports, offset, speed, video_ports)
    sysids = {d["id"]: int(d["sysid"]) for d in copy.raw["drones"]}
    http_port = _free_tcp_port()
    wind = scenario.wind
    sim_args = ["sim", "--site", str(copy.directory), "--speed", f"{speed:g}"]
    sim_args += ["--port-offset", str(offset), "--airframe", scenario.fleet.airframe]
    if not camera:
        sim_args.append("--no-camera")
    sim_args += [
        "--wind",
        f"{wind.from_deg:g},{wind.speed_mps:g}",
        "--gust-mps",
        f"{wind.gust_mps:g}",
    ]
    for name, value in {"SYS_FAILURE_EN": 1, **scenario.fleet.params}.items():
        sim_args += ["--param", f"{name}={value}"]
    serve_args = ["serve", "--site", str(copy.directory), "--data-dir", str(work / "data")]
    serve_args += ["--host", "127.0.0.1", "--port", str(http_port)]
    service_env = {
        "DFR_VIDEO": "true" if camera else "false",
        "DFR_WIND_FROM_DEG": f"{wind.from_deg:g}",
        "DFR_WIND_SPEED_MPS": f"{wind.speed_mps:g}",
    }
    sim = Child("sim", sim_args, logs / "sim.log", {})
    service = Child("service", serve_args, logs / "service.log", service_env)
    rig = Rig(
        drone_ids=ids,
        sysids=sysids,
        gcs_ports={d: SITL_GCS_LOCAL_PORT + offset + i for i, d in enumerate(ids)},
        service=service,
        data_dir=work / "data",
    )
    url = f"http://127.0.0.1:{http_port}"
    # the runner acts as a test rig does: with a rig key an operator made for it
    key = await rig_key(work / "data", logs / "service.log")
    headers = {"Authorization": f"Bearer {key}"}
    async with contextlib.AsyncExitStack() as stack:
        for i, drone_id in enumerate(ids):
            relay = LinkRelay(drone_id, SITL_API_PORT + offset + i, service_ports[i])
            rig.relays[drone_id] = await stack.enter_async_context(relay)
            if video_ports is not None:  # the camera's RTP through a relay: camera_off cuts it
                video = LinkRelay(f"{drone_id} video", SITL_VIDEO_PORT + offset + i, video_ports[i])
                rig.video_relays[drone_id] = await stack.enter_async_context(video)
        await stack.enter_async_context(running(sim))
        await stack.enter_async_context(running(service))
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=url, headers=headers, timeout=HTTP_TIMEOUT_S)
        )
        view = ServiceView(client)
        await _wait_ready(view, rig, [sim, service])
        yield view, rig, url, headers


@contextlib.asynccontextmanager
async def _against(
    url: str, api_key: str, port_offset: int, relay_offset: int | None
) -> AsyncIterator[tuple[ServiceView, Rig, str, dict[str, str]]]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with (
        httpx.AsyncClient(base_url=url, headers=headers, timeout=HTTP_TIMEOUT_S) as client,
        contextlib.AsyncExitStack() as stack,
    ):
        view = ServiceView(client)
        try:
            drones = await view.get("/api/v1/drones")
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            raise ScenarioRunError(f"{url}: cannot read the drones: {exc}") from exc
        # the service lists its drones in the site's order: instance i of PX4 SITL
        ids = tuple(d["id"] for d in drones)
        rig = Rig(
            drone_ids=ids,
            sysids={d: i + 1 for i, d in enumerate(ids)},
            gcs_ports={d: SITL_GCS_LOCAL_PORT + port_offset + i for i, d in enumerate(ids)},
        )
        if relay_offset is not None:  # the runner between vehicle and service: cuts work
            for i, drone_id in enumerate(ids):
                vehicle_port = SITL_API_PORT + port_offset + i
                relay = LinkRelay(drone_id, vehicle_port, vehicle_port + relay_offset)
                try:
                    rig.relays[drone_id] = await stack.enter_async_context(relay)
                except OSError as exc:
                    raise ScenarioRunError(
                        f"--relay-offset: cannot bind {drone_id}'s vehicle port {vehicle_port} "
                        f"({exc}); the service must listen at +{relay_offset}, not there"
                    ) from exc
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not await view.drones_ready(None):
            if time.monotonic() > deadline:
                raise ScenarioRunError(f"{url}: drones not ready after {READY_TIMEOUT_S:g} s")
            await asyncio.sleep(0.25)
        yield view, rig, url, headers


def _audit_of(data_dir: Path | None) -> str | None:
    if data_dir is None:
        return None
    from dfr.audit.checkpoints import PUBLIC_KEY_FILE, load_public_key
    from dfr.audit.verify import verify

    verdict = verify(data_dir, load_public_key(data_dir / PUBLIC_KEY_FILE))
    return "ok" if verdict.ok else verdict.reason


async def run_scenario(
    scenario: Scenario,
    paths: ReportPaths,
    options: RunOptions,
    on_step: Callable[[StepResult], None] = lambda _r: None,
    on_status: Callable[[str], None] = lambda _t: None,
) -> RunOutcome:
    speed = options.speed_factor or scenario.speed_factor
    paths.json.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"dfr-scenario-{scenario.name}-") as tmp:
        work = Path(tmp)
        logs = options.logs_dir or paths.json.parent / f"{paths.json.stem}.logs"
        logs.mkdir(parents=True, exist_ok=True)
        if options.against_url is None:
            rig_cm = _self_started(scenario, speed, work, logs)
            against = "sim"
        else:
            if not options.api_key:
                raise ScenarioRunError("--against URL needs --api-key (or DFR_SCENARIO_API_KEY)")
            rig_cm = _against(
                options.against_url, options.api_key, options.port_offset, options.relay_offset
            )
            against = options.against_url
        on_status("starting" if against == "sim" else f"connecting to {against}")
        events: list[JSON] = []
        async with rig_cm as (view, rig, url, headers):
            await view.set_aside_earlier()
            on_status("running")
            timeline = Timeline(scenario, speed, view, rig)
            timeline.on_step = on_step
            stop = asyncio.Event()
            ws_url = url.replace("http", "ws", 1) + "/ws/events"

            async def timeline_then_stop() -> None:
                try:
                    await timeline.run()
                finally:
                    stop.set()

            async with asyncio.TaskGroup() as group:
                group.create_task(
                    read_events(ws_url, headers, stop, timeline.now_s, events),
                    name=f"{scenario.name}: events",
                )
                group.create_task(timeline_then_stop(), name=f"{scenario.name}: timeline")
            on_status("reading the outcome")
            await view.refresh(tracks=True)
            await view.read_site()
            playbacks = []
            if any(e.kind == "recordings_playable" for e in scenario.expectations):
                playbacks = await play_recordings(
                    view, list(view.observed.flights), logs / "recordings"
                )
            if rig.service is not None:
                await rig.service.stop()  # the trail is complete before it is verified
        audit = await asyncio.to_thread(_audit_of, rig.data_dir)
        evidence = Evidence(
            observed=view.observed,
            steps=timeline.results,
            accepted_calls=timeline.accepted_calls,
            scenario_s_of=timeline.scenario_s_of,
            audit=audit,
            timed_out=timeline.timed_out,
            events=events,
            playbacks=playbacks,
        )
        verdicts = check_all(scenario.expectations, evidence)
        report = build_report(
            scenario,
            timeline,
            evidence,
            verdicts,
            against=against,
            real_s=time.monotonic() - started,
            events=events,
        )
        if playbacks:
            report["recordings"] = [p.to_json() for p in playbacks]
        report["files"] = {"picture": paths.picture.name, "page": paths.page.name}
        paths.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
        title = f"{scenario.name}: {report['verdict']}"
        await asyncio.to_thread(draw_flights, view.observed, report["calls"], title, paths.picture)
        paths.page.write_text(render_page(report, paths.picture.name), encoding="utf-8")
    return RunOutcome(scenario, verdicts, report, paths)
