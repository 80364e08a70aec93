"""Flights: the record of each sortie, its track and video, and the pilot's commands."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from dfr.api.access import Authed, service_of
from dfr.api.models import CommandIn
from dfr.api.request_audit import audit_request
from dfr.api.schemas import (
    AlertOut,
    CommandRecordOut,
    CommandResultOut,
    FlightDetailOut,
    FlightOut,
    LineStringOut,
    PhaseChangeOut,
    RecordingOut,
    TrackOut,
    TrackPropertiesOut,
)
from dfr.auth.tokens import Role, require_role
from dfr.errors import NotFound
from dfr.timestamps import iso_utc

router = APIRouter(prefix="/api/v1", tags=["flights"])

COMMAND_STATUS = {"accepted": 200, "rejected": 409, "unknown": 504}


@router.get("/flights")
async def list_flights(request: Request, who: Authed, active: bool = False) -> list[FlightOut]:
    flights = await service_of(request).store.list_flights(active_only=active)
    return [FlightOut.of(f) for f in flights]


@router.get("/flights/{flight_id}")
async def get_flight(flight_id: str, request: Request, who: Authed) -> FlightDetailOut:
    store = service_of(request).store
    flight = await store.get_flight(flight_id)
    if flight is None:
        raise NotFound(f"flight {flight_id} does not exist")
    phases = [
        PhaseChangeOut(phase=p.phase.value, at=iso_utc(p.at), reason=p.reason)
        for p in await store.list_phases(flight_id)
    ]
    commands = [
        CommandRecordOut(
            id=c.id,
            type=c.type,
            params=c.params,
            issued_at=iso_utc(c.issued_at),
            issued_by=c.issued_by,
            state=c.state.value,
            result=c.result,
            finished_at=iso_utc(c.finished_at) if c.finished_at else None,
        )
        for c in await store.list_commands(flight_id=flight_id)
    ]
    alerts = [
        AlertOut(
            id=a.id,
            kind=a.kind,
            severity=a.severity,
            message=a.message,
            action=a.action,
            at=iso_utc(a.at),
        )
        for a in await store.list_alerts(flight_id=flight_id)
    ]
    recordings = [
        RecordingOut(
            id=r.id,
            duration_s=round(r.duration_s, 2),
            size_bytes=r.size_bytes,
            sha256=r.sha256,
            frame_count=r.frame_count,
            started_at=iso_utc(r.started_at) if r.started_at else None,
            ended_at=iso_utc(r.ended_at) if r.ended_at else None,
            note=r.note,
            url=f"/api/v1/flights/{flight_id}/recordings/{r.id}.mp4",
        )
        for r in await store.list_recordings(flight_id)
    ]
    return FlightDetailOut(
        **dict(FlightOut.of(flight)),
        phases=phases,
        commands=commands,
        alerts=alerts,
        route=flight.route,
        recordings=recordings,
    )


@router.get(
    "/flights/{flight_id}/recordings/{recording_id}.mp4",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"video/mp4": {}},
            "description": "the MP4; its SHA-256 in the X-Content-SHA256 header",
        }
    },
)
async def get_recording(
    flight_id: str, recording_id: int, request: Request, who: Authed
) -> FileResponse:
    """The flight's video as recorded (MP4, remuxed, never transcoded)."""
    require_role(who, Role.SUPERVISOR, "downloading flight video")
    for r in await service_of(request).store.list_recordings(flight_id):
        if r.id == recording_id:
            audit_request(
                request,
                actor=who.name,
                action="recording_download",
                outcome="ok",
                target=f"flight:{flight_id}",
                detail={"recording_id": r.id, "sha256": r.sha256},
            )
            return FileResponse(
                r.path,
                media_type="video/mp4",
                filename=f"{flight_id}-{r.id}.mp4",
                headers={"X-Content-SHA256": r.sha256},
            )
    raise NotFound(f"flight {flight_id} has no recording {recording_id}")


@router.post(
    "/flights/{flight_id}/commands",
    response_model=CommandResultOut,
    responses={
        409: {"model": CommandResultOut, "description": "the vehicle rejected the command"},
        504: {"model": CommandResultOut, "description": "the vehicle did not answer in time"},
    },
)
async def command(flight_id: str, body: CommandIn, request: Request, who: Authed) -> JSONResponse:
    """A pilot's command, checked against the airspace before it is sent; the answer is
    the vehicle's (accepted / rejected / unknown when it did not answer in time)."""
    require_role(who, Role.PILOT, "commanding a flight")
    result = await service_of(request).owners.command(flight_id, body.command(), who.name)
    answer = CommandResultOut(**result)
    return JSONResponse(answer.model_dump(mode="json"), status_code=COMMAND_STATUS[answer.state])


@router.get("/flights/{flight_id}/track")
async def get_track(flight_id: str, request: Request, who: Authed) -> TrackOut:
    store = service_of(request).store
    if await store.get_flight(flight_id) is None:
        raise NotFound(f"flight {flight_id} does not exist")
    points = await store.list_track(flight_id)
    return TrackOut(
        type="Feature",
        geometry=LineStringOut(
            type="LineString",
            coordinates=[[p.lon_deg, p.lat_deg, p.alt_amsl_m] for p in points],
        ),
        properties=TrackPropertiesOut(
            flight_id=flight_id,
            times=[iso_utc(p.t) for p in points],
            alt_rel_m=[p.alt_rel_m for p in points],
            ground_speed_mps=[p.ground_speed_mps for p in points],
            battery_pct=[p.battery_pct for p in points],
            modes=[p.mode for p in points],
            points=len(points),
        ),
    )
