"""The FastAPI app: REST under ``/api/v1``, websockets under ``/ws``.

``create_app(settings, site)`` builds the app; its lifespan enters the
:class:`~dfr.service.Service` (and so its task group) and yields it as typed state.
Every ``DfrError`` becomes a JSON body a person can act on, in one handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypedDict
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocketState

from dfr.api.auth import Principal, Role, bearer_from_header, require_role
from dfr.api.metrics import incident_metrics
from dfr.api.models import CallIn, CommandIn, ErrorOut, IncidentOut, LaunchIn
from dfr.bus import Message, Topic
from dfr.config import Settings
from dfr.dispatch.intake import CallData, check_position, parse_eido
from dfr.errors import (
    AccessDenied,
    CommandError,
    ConfigError,
    DfrError,
    InvalidInput,
    InvalidStateError,
    LinkError,
    NotFound,
    PlanningError,
)
from dfr.planning.vehicle_limits import disagreements
from dfr.service import Service, iso_utc
from dfr.site import Site
from dfr.store.records import Flight, Incident
from dfr.video.websocket import VideoFormat, serve_websocket

logger = logging.getLogger(__name__)

WS_SEND_TIMEOUT_S = 5.0
WEB_DIR = Path(__file__).resolve().parents[2] / "web"


class State(TypedDict):
    service: Service


def _status_for(exc: DfrError) -> int:
    if isinstance(exc, AccessDenied):
        return 403 if exc.authenticated else 401
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidInput | PlanningError):
        return 422
    if isinstance(exc, InvalidStateError):
        return 409
    if isinstance(exc, CommandError):
        return 502
    if isinstance(exc, LinkError):
        return 503
    if isinstance(exc, ConfigError):
        return 500
    return 500


def service_of(request: Request) -> Service:
    service: Service = request.state.service
    return service


def principal(request: Request) -> Principal:
    service = service_of(request)
    return service.tokens.authenticate(bearer_from_header(request.headers.get("authorization")))


Authed = Annotated[Principal, Depends(principal)]


def create_app(settings: Settings, site: Site, *, service: Service | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[State]:
        async with service or Service(settings, site) as running:
            yield {"service": running}

    app = FastAPI(
        title="dfr",
        summary="Drone-as-First-Responder control service",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below, behind a token like every other route
        redoc_url=None,
        openapi_url=None,
    )

    def _doc_token(request: Request) -> str:
        token = request.query_params.get("token") or bearer_from_header(
            request.headers.get("authorization")
        )
        service_of(request).tokens.authenticate(token)
        return token or ""

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json(request: Request) -> JSONResponse:
        _doc_token(request)
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        """The interactive API documentation: open it as /docs?token=… (it signs the
        OpenAPI request with the same token)."""
        token = _doc_token(request)
        return get_swagger_ui_html(
            openapi_url=f"/openapi.json?token={quote(token)}", title="dfr API"
        )

    @app.exception_handler(DfrError)
    async def dfr_error(_request: Request, exc: DfrError) -> JSONResponse:
        body = ErrorOut(
            error=type(exc).__name__, detail=str(exc), field=getattr(exc, "field", None)
        )
        headers = {"WWW-Authenticate": "Bearer"} if _status_for(exc) == 401 else None
        return JSONResponse(body.model_dump(), status_code=_status_for(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"] if p != "body")
            problems.append({"field": loc, "problem": err["msg"]})
        detail = "; ".join(f"{p['field'] or 'body'}: {p['problem']}" for p in problems)
        return JSONResponse(
            {"error": "InvalidInput", "detail": detail, "problems": problems}, status_code=422
        )

    # -- calls and incidents -------------------------------------------------------------

    async def _take(service: Service, call: CallData) -> JSONResponse:
        result = await service.take_call(call)
        body = (await incident_out(service, result.incident)).model_dump(mode="json")
        body["changed"] = list(result.changed)
        return JSONResponse(body, status_code=201 if result.created else 200)

    @app.post("/api/v1/calls", status_code=201, response_model=IncidentOut)
    async def post_call(call: CallIn, request: Request, who: Authed) -> JSONResponse:
        """A CAD call in dfr's JSON. The same ``cad_id`` again returns the existing incident
        (200), applying any change (location, priority, cancelled) as an update."""
        require_role(who, Role.PILOT, "posting a call")
        check_position(call.location.lat, call.location.lon, "location")
        now = datetime.now(UTC)
        data = CallData(
            cad_id=call.cad_id,
            source="json",
            nature=call.nature,
            priority=call.priority,
            lat_deg=call.location.lat,
            lon_deg=call.location.lon,
            received_at=call.received_at or now,
            address=call.address,
            notes=call.notes,
            cancelled=call.cancelled,
            raw=call.model_dump(mode="json"),
        )
        return await _take(service_of(request), data)

    @app.post("/api/v1/calls/eido", status_code=201, response_model=IncidentOut)
    async def post_eido(request: Request, who: Authed) -> JSONResponse:
        """A call as a NENA EIDO JSON document (NENA-STA-021)."""
        require_role(who, Role.PILOT, "posting a call")
        try:
            doc: Any = await request.json()
        except ValueError as exc:
            raise InvalidInput("", f"body is not JSON: {exc}") from exc
        return await _take(service_of(request), parse_eido(doc, now=datetime.now(UTC)))

    @app.get("/api/v1/incidents", response_model=list[IncidentOut])
    async def list_incidents(request: Request, who: Authed) -> list[IncidentOut]:
        store = service_of(request).store
        flight_of = {}
        for flight in reversed(await store.list_flights(limit=1000)):
            if flight.incident_id is not None:
                flight_of[flight.incident_id] = flight.id  # newest wins
        return [
            IncidentOut.of(i, flight_id=flight_of.get(i.id)) for i in await store.list_incidents()
        ]

    @app.get("/api/v1/incidents/{incident_id}", response_model=IncidentOut)
    async def get_incident(incident_id: str, request: Request, who: Authed) -> IncidentOut:
        service = service_of(request)
        incident = await service.store.get_incident(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} does not exist")
        return await incident_out(service, incident)

    @app.post("/api/v1/incidents/{incident_id}/launch", status_code=201)
    async def launch(
        incident_id: str, request: Request, who: Authed, body: LaunchIn | None = None
    ) -> dict[str, Any]:
        """A pilot launches a drone for the incident: the best one, or the one named."""
        require_role(who, Role.PILOT, "launching")
        service = service_of(request)
        flight = await service.launch(
            incident_id,
            who.name,
            body.drone_id if body else None,
            divert=bool(body and body.divert),
        )
        return flight_body(flight)

    @app.get("/api/v1/airspace")
    async def airspace(request: Request, who: Authed) -> dict[str, Any]:
        """Every zone of the site as GeoJSON, with ``active`` flags for time-windowed zones."""
        return service_of(request).planner.airspace_geojson()

    @app.get("/api/v1/metrics")
    async def metrics(request: Request, who: Authed) -> dict[str, Any]:
        """Per incident: call received → decision → launch command → airborne → on scene →
        back, in seconds from the call; and the averages."""
        return await incident_metrics(service_of(request).store)

    # -- fleet ---------------------------------------------------------------------------

    @app.get("/api/v1/drones")
    async def list_drones(request: Request, who: Authed) -> list[dict[str, Any]]:
        service = service_of(request)
        return [_drone_body(service, drone_id) for drone_id in service.links]

    @app.get("/api/v1/drones/{drone_id}")
    async def get_drone(drone_id: str, request: Request, who: Authed) -> dict[str, Any]:
        service = service_of(request)
        if drone_id not in service.links:
            raise NotFound(f"drone {drone_id} does not exist (drones: {', '.join(service.links)})")
        return _drone_body(service, drone_id)

    @app.get("/api/v1/drones/{drone_id}/snapshot.jpg")
    async def snapshot(drone_id: str, request: Request, who: Authed) -> Response:
        """A JPEG of the drone's latest video keyframe."""
        video = service_of(request).videos.get(drone_id)
        if video is None:
            raise NotFound(f"drone {drone_id} has no video")
        return Response(await video.snapshot_jpeg(), media_type="image/jpeg")

    @app.get("/api/v1/me")
    async def me(who: Authed) -> dict[str, str]:
        """Who this token is, and its role (the console shows pilot controls by it)."""
        return {"name": who.name, "role": who.role.label}

    @app.get("/api/v1/site")
    async def site_info(request: Request, who: Authed) -> dict[str, Any]:
        site = service_of(request).site
        return {
            "name": site.name,
            "timezone": site.data.timezone,
            "policy": site.policy.model_dump(),
        }

    @app.get("/api/v1/docks")
    async def list_docks(request: Request, who: Authed) -> list[dict[str, Any]]:
        service = service_of(request)
        site = service.site
        out = []
        for d in site.docks:
            drones = [dr for dr in site.drones if dr.dock == d.id]
            away = [dr.id for dr in drones if service.sorties.flight_of_drone(dr.id) is not None]
            hold = any(service.wind.speed_mps > dr.performance.max_wind_mps for dr in drones)
            out.append(
                {
                    "id": d.id,
                    "name": d.name,
                    "lat": d.lat,
                    "lon": d.lon,
                    "ground_alt_amsl_m": d.ground_alt_amsl_m,
                    "drones": [dr.id for dr in drones],
                    "drones_away": away,
                    "weather_hold": hold,
                    "state": "weather_hold" if hold else ("drone_away" if away else "ready"),
                }
            )
        return out

    # -- flights -------------------------------------------------------------------------

    @app.get("/api/v1/flights")
    async def list_flights(
        request: Request, who: Authed, active: bool = False
    ) -> list[dict[str, Any]]:
        flights = await service_of(request).store.list_flights(active_only=active)
        return [flight_body(f) for f in flights]

    @app.get("/api/v1/flights/{flight_id}")
    async def get_flight(flight_id: str, request: Request, who: Authed) -> dict[str, Any]:
        store = service_of(request).store
        flight = await store.get_flight(flight_id)
        if flight is None:
            raise NotFound(f"flight {flight_id} does not exist")
        body = flight_body(flight)
        body["phases"] = [
            {"phase": p.phase.value, "at": iso_utc(p.at), "reason": p.reason}
            for p in await store.list_phases(flight_id)
        ]
        body["commands"] = [
            {
                "id": c.id,
                "type": c.type,
                "params": c.params,
                "issued_at": iso_utc(c.issued_at),
                "issued_by": c.issued_by,
                "state": c.state.value,
                "result": c.result,
                "finished_at": iso_utc(c.finished_at) if c.finished_at else None,
            }
            for c in await store.list_commands(flight_id=flight_id)
        ]
        body["alerts"] = [
            {
                "id": a.id,
                "kind": a.kind,
                "severity": a.severity,
                "message": a.message,
                "action": a.action,
                "at": iso_utc(a.at),
            }
            for a in await store.list_alerts(flight_id=flight_id)
        ]
        body["route"] = flight.route
        body["recordings"] = [
            {
                "id": r.id,
                "duration_s": round(r.duration_s, 2),
                "size_bytes": r.size_bytes,
                "sha256": r.sha256,
                "frame_count": r.frame_count,
                "started_at": iso_utc(r.started_at) if r.started_at else None,
                "ended_at": iso_utc(r.ended_at) if r.ended_at else None,
                "url": f"/api/v1/flights/{flight_id}/recordings/{r.id}.mp4",
            }
            for r in await store.list_recordings(flight_id)
        ]
        return body

    @app.get("/api/v1/flights/{flight_id}/recordings/{recording_id}.mp4")
    async def get_recording(
        flight_id: str, recording_id: int, request: Request, who: Authed
    ) -> FileResponse:
        """The flight's video as recorded (MP4, remuxed, never transcoded)."""
        require_role(who, Role.SUPERVISOR, "downloading flight video")
        for r in await service_of(request).store.list_recordings(flight_id):
            if r.id == recording_id:
                return FileResponse(
                    r.path,
                    media_type="video/mp4",
                    filename=f"{flight_id}-{r.id}.mp4",
                    headers={"X-Content-SHA256": r.sha256},
                )
        raise NotFound(f"flight {flight_id} has no recording {recording_id}")

    @app.post("/api/v1/flights/{flight_id}/commands")
    async def command(
        flight_id: str, body: CommandIn, request: Request, who: Authed
    ) -> JSONResponse:
        """A pilot's command, checked against the airspace before it is sent; the answer is
        the vehicle's (accepted / rejected / unknown when it did not answer in time)."""
        require_role(who, Role.PILOT, "commanding a flight")
        result = await service_of(request).sorties.command(
            flight_id, body.model_dump(exclude_none=True), who.name
        )
        status = {"accepted": 200, "rejected": 409, "unknown": 504}[result["state"]]
        return JSONResponse(result, status_code=status)

    @app.get("/api/v1/flights/{flight_id}/track")
    async def get_track(flight_id: str, request: Request, who: Authed) -> dict[str, Any]:
        store = service_of(request).store
        if await store.get_flight(flight_id) is None:
            raise NotFound(f"flight {flight_id} does not exist")
        points = await store.list_track(flight_id)
        return {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[p.lon_deg, p.lat_deg, p.alt_amsl_m] for p in points],
            },
            "properties": {
                "flight_id": flight_id,
                "times": [iso_utc(p.t) for p in points],
                "alt_rel_m": [p.alt_rel_m for p in points],
                "ground_speed_mps": [p.ground_speed_mps for p in points],
                "battery_pct": [p.battery_pct for p in points],
                "modes": [p.mode for p in points],
                "points": len(points),
            },
        }

    # -- websockets ----------------------------------------------------------------------

    @app.websocket("/ws/telemetry")
    async def ws_telemetry(websocket: WebSocket) -> None:
        await _stream(websocket, Topic.TELEMETRY, latest_only=True)

    @app.websocket("/ws/events")
    async def ws_events(websocket: WebSocket) -> None:
        await _stream(websocket, Topic.EVENTS, latest_only=False)

    @app.websocket("/ws/video/{drone_id}")
    async def ws_video(websocket: WebSocket, drone_id: str) -> None:
        """Live video: a JSON codec message, then fMP4 (init segment, then fragments from a
        keyframe) for Media Source Extensions, or ``?format=annexb`` for WebCodecs."""
        service: Service = websocket.state.service
        token = websocket.query_params.get("token") or bearer_from_header(
            websocket.headers.get("authorization")
        )
        try:
            service.tokens.authenticate(token)
        except AccessDenied as exc:
            await websocket.close(code=1008, reason=str(exc)[:120])
            return
        video = service.videos.get(drone_id)
        fmt_text = websocket.query_params.get("format", "fmp4")
        if video is None or fmt_text not in {f.value for f in VideoFormat}:
            await websocket.close(
                code=1008, reason=f"no video for {drone_id!r} in format {fmt_text!r}"
            )
            return
        await websocket.accept()
        await serve_websocket(websocket, video.hub, fmt=VideoFormat(fmt_text))

    # The console and viewer pages (static; they sign in with a token, see web/README).
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True, check_dir=False), name="web")
    return app


async def incident_out(service: Service, incident: Incident) -> IncidentOut:
    """An incident with its latest dispatch decision and its newest flight."""
    decisions = await service.store.list_decisions(incident.id)
    decision = None
    if decisions:
        last = decisions[-1]
        decision = {
            "outcome": last.outcome,
            "chosen_drone_id": last.chosen_drone_id,
            "ranking": last.ranking,
            "rejections": last.rejections,
            "decided_at": iso_utc(last.decided_at),
            "elapsed_ms": last.elapsed_ms,
        }
    flights = [
        f for f in await service.store.list_flights(limit=1000) if f.incident_id == incident.id
    ]
    return IncidentOut.of(incident, flight_id=flights[0].id if flights else None, decision=decision)


def flight_body(flight: Flight) -> dict[str, Any]:
    return {
        "id": flight.id,
        "incident_id": flight.incident_id,
        "drone_id": flight.drone_id,
        "dock_id": flight.dock_id,
        "phase": flight.phase.value,
        "created_at": iso_utc(flight.created_at),
        "updated_at": iso_utc(flight.updated_at),
        "ended_at": iso_utc(flight.ended_at) if flight.ended_at else None,
        "planned_eta_s": flight.planned_eta_s,
        "outcome": flight.outcome,
    }


def _drone_body(service: Service, drone_id: str) -> dict[str, Any]:
    link = service.links[drone_id]
    drone = service.drones[drone_id]
    limits = link.limits
    body = service.position_message(link.state)
    body.pop("type")
    body.update(
        {
            "id": drone_id,
            "dock_id": drone.dock,
            "health_ok": link.state.health_ok,
            "armable": link.state.armable,
            "performance": drone.performance.model_dump(),
            # what the vehicle's own parameters allow, and the figures ETAs are planned with
            "vehicle_limits": asdict(limits) if limits else None,
            "planned_performance": service.planner.performance_of(drone).model_dump(),
            "limits_disagreements": disagreements(drone.performance, limits) if limits else [],
            "sysid": link.sysid,
            # what else speaks on the drone's link (other system ids: never taken for it)
            "link_warnings": [
                {
                    "kind": w.kind,
                    "sysid": w.sysid,
                    "message": w.message,
                    "action": w.action,
                    "t": iso_utc(w.at),
                }
                for w in link.link_warnings
            ],
        }
    )
    return body


async def _stream(websocket: WebSocket, topic: Topic, *, latest_only: bool) -> None:
    service: Service = websocket.state.service
    token = websocket.query_params.get("token") or bearer_from_header(
        websocket.headers.get("authorization")
    )
    try:
        service.tokens.authenticate(token)
    except AccessDenied as exc:
        await websocket.close(code=1008, reason=str(exc)[:120])
        return
    drone_filter = websocket.query_params.get("drone_id")
    flight_filter = websocket.query_params.get("flight_id")
    # ?batch=1: each frame is a JSON array of the messages pending for this viewer (one
    # frame per wake-up instead of one per drone update: for viewers of whole fleets)
    batched = websocket.query_params.get("batch") in ("1", "true")

    def accept(message: Message) -> bool:
        if drone_filter and message.drone_id != drone_filter:
            return False
        return not (flight_filter and message.flight_id != flight_filter)

    await websocket.accept()
    sub = service.bus.subscribe(topic, latest_only=latest_only, accept=accept)
    try:
        if topic is Topic.TELEMETRY:  # a picture at once, not at the next update
            bodies = [service.position_message(link.state) for link in service.links.values()]
            bodies = [
                b
                for b in bodies
                if (not drone_filter or b["drone_id"] == drone_filter)
                and (not flight_filter or b["flight_id"] == flight_filter)
            ]
            if batched:
                await websocket.send_json(bodies)
            else:
                for body in bodies:
                    await websocket.send_json(body)
    except (WebSocketDisconnect, RuntimeError):
        service.bus.unsubscribe(sub)
        return

    async def reader() -> None:
        """Notice a client that closed: end the subscription so the sender stops."""
        try:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            sub.close()

    async def sender() -> None:
        while True:
            batch = await sub.get_batch()
            async with asyncio.timeout(WS_SEND_TIMEOUT_S):
                if batched:
                    await websocket.send_text("[" + ",".join(m.text for m in batch) + "]")
                else:
                    for message in batch:
                        await websocket.send_text(message.text)

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(reader(), name=f"ws {topic}: reader")
            await sender()
    except* (WebSocketDisconnect, EOFError):
        pass
    except* TimeoutError:
        logger.info("ws %s: viewer stopped reading for %.0f s; dropped", topic, WS_SEND_TIMEOUT_S)
    finally:
        service.bus.unsubscribe(sub)
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await websocket.close()
