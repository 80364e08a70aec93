"""Running a scenario's timeline against a service: on scenario (vehicle) time, each step
once its time has come (and, with ``when``, once its call's flight reached the phase),
faults undone when their duration is over, until every flight has ended.

Everything here acts through the service's HTTP API, the runner's link relays and the
vehicles' MAVLink GCS ports (:class:`Rig` says which of those this run can reach).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from dfr.scenario.link_relay import LinkRelay
from dfr.scenario.rig_processes import Child
from dfr.scenario.scenario_file import Scenario, Step, duration_s
from dfr.scenario.service_view import JSON, ServiceView
from dfr.scenario.vehicle_faults import FailureType, FailureUnit, inject_failure

logger = logging.getLogger(__name__)

POLL_S = 0.25  # real seconds between reads of the service
SETTLE_S = 1.5  # real seconds with nothing left to do before the run ends
DEFAULT_OUTAGE_S = 10.0  # scenario seconds of a fault without a duration that needs one


@dataclass
class Rig:
    """What this run can reach: the drones (instance order), their MAVLink GCS ports,
    the runner's link relays (self-started only) and the service process (idem)."""

    drone_ids: tuple[str, ...]
    sysids: dict[str, int]
    gcs_ports: dict[str, int]
    relays: dict[str, LinkRelay] = field(default_factory=dict)
    video_relays: dict[str, LinkRelay] = field(default_factory=dict)  # fleet camera: true
    service: Child | None = None
    data_dir: Path | None = None


@dataclass
class StepResult:
    step: str
    kind: str
    line: int
    scenario_s: float
    ok: bool
    status: int | None
    detail: str


@dataclass
class FaultRecord:
    step: str
    kind: str
    drone: str | None
    start_s: float
    end_s: float | None
    how: str
    result: str
    injected: bool


@dataclass
class Restore:
    due_s: float
    label: str
    action: Callable[[], Awaitable[str]]
    fault: FaultRecord


class Timeline:
    def __init__(
        self, scenario: Scenario, speed_factor: float, view: ServiceView, rig: Rig
    ) -> None:
        self.scenario = scenario
        self.speed = speed_factor
        self.view = view
        self.rig = rig
        self.t0_mono = time.monotonic()
        self.t0_wall = datetime.now(UTC)
        self.results: list[StepResult] = []
        self.faults: list[FaultRecord] = []
        self.posted: dict[str, JSON] = {}  # cad_id -> body of the call, as last posted
        self.accepted_calls: set[str] = set()
        self.timed_out = False
        self.on_step: Callable[[StepResult], None] = lambda _r: None
        self._restores: list[Restore] = []
        self._last_action_mono = self.t0_mono

    # -- time -------------------------------------------------------------------------------

    def now_s(self) -> float:
        """Scenario seconds since the start (real seconds x speed factor)."""
        return (time.monotonic() - self.t0_mono) * self.speed

    def scenario_s_of(self, iso: str | None) -> float | None:
        """Scenario seconds of a service timestamp (ISO 8601)."""
        if not iso:
            return None
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return round((when - self.t0_wall).total_seconds() * self.speed, 2)

    # -- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        pending = list(self.scenario.steps)
        while True:
            answered = await self.view.refresh()
            now = self.now_s()
            for step in [s for s in pending if self._due(s, now)]:
                pending.remove(step)
                await self._execute(step)
            for restore in [r for r in self._restores if r.due_s <= self.now_s()]:
                self._restores.remove(restore)
                restore.fault.result += f"; {await restore.action()}"
                restore.fault.end_s = round(self.now_s(), 2)
                self._last_action_mono = time.monotonic()
            if not pending and not self._restores and answered and self._settled():
                return
            if self.now_s() > self.scenario.max_duration_s:
                logger.warning("%s: max_duration reached", self.scenario.name)
                self.timed_out = True
                await self._undo_all()
                return
            await asyncio.sleep(POLL_S)

    async def _undo_all(self) -> None:
        for restore in self._restores:
            restore.fault.result += f"; {await restore.action()} (at the end)"
        self._restores.clear()

    def _settled(self) -> bool:
        if time.monotonic() - self._last_action_mono < SETTLE_S:
            return False
        observed = self.view.observed
        for cad_id in self.accepted_calls:
            incident = observed.incidents.get(cad_id)
            if incident is None or incident.get("decision") is None:
                return False
        return all(f["ended_at"] is not None for f in observed.flights.values())

    def _phase_reached_s(self, cad_id: str, phase: str) -> float | None:
        """When the call's latest flight reached ``phase`` (``docked``: back on its dock,
        the flight ended; every flight starts docked)."""
        flights = self.view.observed.flights_of(cad_id)
        if not flights:
            return None
        flight = flights[-1]
        changes = [c for c in flight.get("phases", []) if c["phase"] == phase]
        if phase == "docked":
            if flight["ended_at"] is None or len(flight.get("phases", [])) < 2:
                return None
            return self.scenario_s_of(changes[-1]["at"]) if changes else None
        return self.scenario_s_of(changes[0]["at"]) if changes else None

    def _due(self, step: Step, now: float) -> bool:
        if now < step.at_s:
            return False
        if step.when is None:
            return now >= step.at_s + step.after_s
        reached = self._phase_reached_s(step.when.call, step.when.phase)
        return reached is not None and now >= reached + step.after_s

    # -- steps ------------------------------------------------------------------------------

    async def _execute(self, step: Step) -> None:
        at = round(self.now_s(), 2)
        try:
            ok, status, detail = await self._act(step)
        except httpx.TransportError as exc:
            ok, status, detail = False, None, f"the service did not answer: {exc}"
        result = StepResult(step.id, step.kind, step.line, at, ok, status, detail)
        self.results.append(result)
        self._last_action_mono = time.monotonic()
        logger.info("%s: %s %s -> %s", self.scenario.name, step.kind, step.id, detail)
        self.on_step(result)

    async def _post(self, path: str, **kwargs: Any) -> tuple[bool, int, str]:
        return await self._send("POST", path, **kwargs)

    async def _send(self, method: str, path: str, **kwargs: Any) -> tuple[bool, int, str]:
        response = await self.view.client.request(method, path, **kwargs)
        text = response.text
        try:
            body = response.json()
            if isinstance(body, dict) and "status" in body and response.is_success:
                text = f"incident {body.get('id')} {body['status']}"
        except ValueError:
            pass
        return response.is_success, response.status_code, f"{response.status_code}: {text[:300]}"

    async def _act(self, step: Step) -> tuple[bool, int | None, str]:
        body = step.body
        if step.kind == "call":
            self.posted[body["cad_id"]] = dict(body)
            ok, status, detail = await self._post("/api/v1/calls", json=body)
            if ok:
                self.accepted_calls.add(body["cad_id"])
            return ok, status, detail
        if step.kind == "eido":
            document = body
            if isinstance(body, str):
                document = json.loads((self.scenario.path.parent / body).read_text("utf-8"))
            ok, status, detail = await self._post("/api/v1/calls/eido", json=document)
            if ok:
                self.accepted_calls.add(step.id)
            return ok, status, detail
        if step.kind == "bad_call":
            path = "/api/v1/calls/eido" if body.get("endpoint") == "eido" else "/api/v1/calls"
            if "text" in body:
                headers = {"Content-Type": "application/json"}
                return await self._post(path, content=body["text"].encode(), headers=headers)
            return await self._post(path, json=body.get("json"))
        if step.kind == "cad_update":
            return await self._cad_update(body)
        if step.kind == "pilot":
            return await self._pilot(body)
        if step.kind == "fault":
            return await self._fault(step)
        if step.kind == "dock_hold":  # a supervisor's override (the run's pilot outranks one)
            reason = {"reason": body["reason"]}
            return await self._post(f"/api/v1/docks/{body['dock']}/hold", json=reason)
        if step.kind == "dock_release":
            return await self._send("DELETE", f"/api/v1/docks/{body['dock']}/hold")
        raise AssertionError(step.kind)

    async def _cad_update(self, body: JSON) -> tuple[bool, int | None, str]:
        call = dict(self.posted[body["call"]])
        for key in ("location", "priority", "cancelled"):
            if key in body:
                call[key] = body[key]
        self.posted[body["call"]] = call
        return await self._post("/api/v1/calls", json=call)

    async def _pilot(self, body: JSON) -> tuple[bool, int | None, str]:
        action, cad_id = body["action"], body["call"]
        observed = self.view.observed
        incident = observed.incidents.get(cad_id)
        if incident is None:
            # taken since the last poll (at high speed factors a step can follow its call
            # by less than one poll): read the service now rather than fail the step
            await self.view.refresh()
            incident = observed.incidents.get(cad_id)
        if incident is None:
            return False, None, f"no incident for call {cad_id} yet"
        if action == "launch":
            launch = {"drone_id": body["drone"]} if "drone" in body else {}
            return await self._post(f"/api/v1/incidents/{incident['id']}/launch", json=launch)
        if action == "divert":  # take a flying drone (named, or the one on from_call)
            drone = body.get("drone")
            if drone is None:
                flying = observed.flights_of(body["from_call"])
                if not flying or flying[-1]["ended_at"] is not None:
                    return False, None, f"call {body['from_call']} has no drone flying"
                drone = flying[-1]["drone_id"]
            divert = {"drone_id": drone, "divert": True}
            return await self._post(f"/api/v1/incidents/{incident['id']}/launch", json=divert)
        flights = observed.flights_of(cad_id)
        if not flights:  # launched since the last poll?
            await self.view.refresh()
            flights = observed.flights_of(cad_id)
        if not flights:
            return False, None, f"call {cad_id} has no flight"
        flight_id = flights[-1]["id"]
        if action == "share_link":
            link = {"flight_id": flight_id, "label": body.get("label", "scenario officer")}
            return await self._post("/api/v1/viewer-links", json=link)
        command: JSON = {"type": action}
        if action in ("orbit", "goto"):
            location = self.posted.get(cad_id, {}).get("location", {})
            command["lat"] = body.get("lat", location.get("lat"))
            command["lon"] = body.get("lon", location.get("lon"))
        for key in ("alt_rel_m", "radius_m"):
            if key in body:
                command[key] = body[key]
        return await self._post(f"/api/v1/flights/{flight_id}/commands", json=command)

    # -- faults -----------------------------------------------------------------------------

    def _fault_drone(self, step: Step) -> str | None:
        named = step.body.get("drone")
        if named:
            return str(named)
        if step.when is not None:
            flight = self.view.observed.flights_of(step.when.call)
            if flight:
                return str(flight[-1]["drone_id"])
        return self.rig.drone_ids[0] if self.rig.drone_ids else None

    async def _fault(self, step: Step) -> tuple[bool, int | None, str]:
        kind = step.body["kind"]
        outage_s = duration_s(step.body.get("duration", DEFAULT_OUTAGE_S))
        drone = None if kind == "service_kill" else self._fault_drone(step)
        record = FaultRecord(step.id, kind, drone, round(self.now_s(), 2), None, "", "", False)
        self.faults.append(record)
        if kind == "service_kill":
            return await self._kill_service(record, outage_s)
        if drone is None or drone not in self.rig.gcs_ports:
            record.result = f"skipped: no drone {drone!r} in this run"
            return False, None, record.result
        if kind in ("link_loss", "camera_off"):
            relays = self.rig.relays if kind == "link_loss" else self.rig.video_relays
            relay = relays.get(drone)
            if relay is None:
                record.how = "relay"
                record.result = (
                    "skipped: the runner has no relay on this link (--against without --relay-offset)"
                    if kind == "link_loss"
                    else "skipped: the runner relays no video (fleet camera: false, or --against)"
                )
                return False, None, record.result
            relay.cut()
            record.how, record.result, record.injected = "runner's UDP relay", "cut", True
            dropped_before = relay.dropped_datagrams

            async def restore_link() -> str:
                relay.restore()
                return f"restored ({relay.dropped_datagrams - dropped_before} datagrams dropped)"

            self._restores.append(Restore(self.now_s() + outage_s, kind, restore_link, record))
            what = "link" if kind == "link_loss" else "video"
            return True, None, f"{drone}: {what} cut for {outage_s:g} s"
        unit, failure = {
            "gps_loss": (FailureUnit.SENSOR_GPS, FailureType.OFF),
            "battery_drop": (FailureUnit.SYSTEM_BATTERY, FailureType.WRONG),
            "motor_failure": (FailureUnit.SYSTEM_MOTOR, FailureType.OFF),
        }[kind]
        port, sysid = self.rig.gcs_ports[drone], self.rig.sysids[drone]
        injected = await inject_failure(port, sysid, unit, failure)
        record.how = f"MAV_CMD_INJECT_FAILURE unit {unit.name} type {failure.name} to UDP {port}"
        record.result, record.injected = injected.result, injected.accepted
        if injected.accepted and kind == "gps_loss" and "duration" in step.body:

            async def restore_gps() -> str:
                back = await inject_failure(port, sysid, unit, FailureType.OK)
                return f"GPS back: {back.result}"

            self._restores.append(Restore(self.now_s() + outage_s, "gps", restore_gps, record))
        return injected.accepted, None, f"{drone}: {record.how}: {injected.result}"

    async def _kill_service(
        self, record: FaultRecord, outage_s: float
    ) -> tuple[bool, int | None, str]:
        service = self.rig.service
        record.how = "SIGKILL of the service process"
        if service is None or not service.running:
            record.result = "skipped: the runner did not start the service (--against)"
            return False, None, record.result
        status = await service.kill()
        record.result, record.injected = f"killed (exit {status})", True

        async def restart() -> str:
            await service.start()
            return "restarted on the same data directory"

        self._restores.append(Restore(self.now_s() + outage_s, "service", restart, record))
        return True, None, f"service killed, restart in {outage_s:g} s"
