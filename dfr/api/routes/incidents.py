"""Incidents: the calls as dfr keeps them, their dispatch decision, and launching."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request

from dfr.api.access import Authed, service_of
from dfr.api.models import LaunchIn
from dfr.api.schemas import CandidateOut, DecisionOut, FlightOut, IncidentOut, RejectionOut
from dfr.auth.tokens import Role, require_role
from dfr.errors import NotFound
from dfr.records import Incident
from dfr.timestamps import iso_utc

if TYPE_CHECKING:
    from dfr.service import Service

router = APIRouter(prefix="/api/v1", tags=["incidents"])


async def incident_out(service: Service, incident: Incident) -> IncidentOut:
    """An incident with its latest dispatch decision and its newest flight."""
    decisions = await service.store.list_decisions(incident.id)
    decision = None
    if decisions:
        last = decisions[-1]
        decision = DecisionOut(
            outcome=last.outcome,
            chosen_drone_id=last.chosen_drone_id,
            ranking=[CandidateOut(**c) for c in last.ranking],
            rejections=[RejectionOut(**r) for r in last.rejections],
            decided_at=iso_utc(last.decided_at),
            elapsed_ms=last.elapsed_ms,
        )
    flights = [
        f for f in await service.store.list_flights(limit=1000) if f.incident_id == incident.id
    ]
    return IncidentOut.of(incident, flight_id=flights[0].id if flights else None, decision=decision)


@router.get("/incidents")
async def list_incidents(request: Request, who: Authed) -> list[IncidentOut]:
    store = service_of(request).store
    flight_of = {}
    for flight in reversed(await store.list_flights(limit=1000)):
        if flight.incident_id is not None:
            flight_of[flight.incident_id] = flight.id  # newest wins
    return [IncidentOut.of(i, flight_id=flight_of.get(i.id)) for i in await store.list_incidents()]


@router.get("/incidents/{incident_id}")
async def get_incident(incident_id: str, request: Request, who: Authed) -> IncidentOut:
    service = service_of(request)
    incident = await service.store.get_incident(incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return await incident_out(service, incident)


@router.post("/incidents/{incident_id}/launch", status_code=201)
async def launch(
    incident_id: str, request: Request, who: Authed, body: LaunchIn | None = None
) -> FlightOut:
    """A pilot launches a drone for the incident: the best one, or the one named."""
    require_role(who, Role.PILOT, "launching")
    service = service_of(request)
    flight = await service.desk.launch(
        incident_id,
        who.name,
        body.drone_id if body else None,
        divert=bool(body and body.divert),
    )
    return FlightOut.of(flight)
