"""CAD calls in: dfr's own JSON and NENA EIDO documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from dfr.api.access import IntakeAuthed, service_of
from dfr.api.models import CallIn
from dfr.api.routes.incidents import incident_out
from dfr.api.schemas import CallOut
from dfr.auth.tokens import require_intake
from dfr.dispatch.intake import CallData, check_position, parse_eido
from dfr.dispatch.units import UnitReport
from dfr.errors import InvalidInput

if TYPE_CHECKING:
    from dfr.service import Service

router = APIRouter(prefix="/api/v1", tags=["calls"])

EIDO_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "a NENA EIDO JSON document (NENA-STA-021): incidentComponent, "
                "locationComponent (PIDF-LO by value), notesComponent",
            }
        }
    },
}


async def _take(service: Service, call: CallData, response: Response) -> CallOut:
    result = await service.take_call(call)
    incident = await incident_out(service, result.incident)
    response.status_code = 201 if result.created else 200
    return CallOut(**dict(incident), changed=list(result.changed))


@router.post(
    "/calls",
    status_code=201,
    responses={200: {"model": CallOut, "description": "the same cad_id again: updated"}},
)
async def post_call(
    call: CallIn, request: Request, response: Response, who: IntakeAuthed
) -> CallOut:
    """A CAD call in dfr's JSON. The same ``cad_id`` again returns the existing incident
    (200), applying any change (location, priority, cancelled) as an update."""
    require_intake(who)
    check_position(call.location.lat, call.location.lon, "location")
    now = datetime.now(UTC)
    data = CallData(
        cad_id=call.cad_id,
        source="json",
        nature=call.nature,
        priority=call.priority,
        lat_deg=call.location.lat,
        lon_deg=call.location.lon,
        received_at=(call.received_at or now).astimezone(UTC),
        address=call.address,
        notes=call.notes,
        cancelled=call.cancelled,
        raw=call.model_dump(mode="json"),
        units=tuple(
            UnitReport(
                u.id,
                u.dispatched_at and u.dispatched_at.astimezone(UTC),
                u.arrived_at and u.arrived_at.astimezone(UTC),
            )
            for u in call.units
        ),
    )
    return await _take(service_of(request), data, response)


@router.post(
    "/calls/eido",
    status_code=201,
    openapi_extra={"requestBody": EIDO_BODY},
    responses={200: {"model": CallOut, "description": "the same call again: updated"}},
)
async def post_eido(request: Request, response: Response, who: IntakeAuthed) -> CallOut:
    """A call as a NENA EIDO JSON document (NENA-STA-021)."""
    require_intake(who)
    try:
        doc: Any = await request.json()
    except ValueError as exc:
        raise InvalidInput("", f"body is not JSON: {exc}") from exc
    return await _take(service_of(request), parse_eido(doc, now=datetime.now(UTC)), response)
