"""Incident and Flight records for tests that write to the store directly.

Each builder fills every field with a plain value and takes the ones a test cares
about as keyword changes, so a test names what matters to it:
``incident("C1", T0, status=IncidentStatus.DISPATCHED)``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from dfr.records import Flight, FlightPhase, Incident, IncidentStatus


def incident(cad_id: str, at: datetime, **changes: Any) -> Incident:
    """A new JSON call ``cad_id`` (id ``inc-<cad_id>``) received and stored at ``at``."""
    base = Incident(
        id=f"inc-{cad_id}",
        cad_id=cad_id,
        source="json",
        nature="test",
        priority=1,
        lat_deg=32.75,
        lon_deg=-97.33,
        address="",
        notes="",
        received_at=at,
        created_at=at,
        updated_at=at,
        status=IncidentStatus.NEW,
    )
    return replace(base, **changes)


def flight(flight_id: str, incident_id: str | None, at: datetime, **changes: Any) -> Flight:
    """A flight for ``incident_id`` created at ``at``, in preflight, with a 120 s ETA."""
    base = Flight(
        id=flight_id,
        incident_id=incident_id,
        drone_id="d1",
        dock_id="dock",
        phase=FlightPhase.PREFLIGHT,
        created_at=at,
        updated_at=at,
        planned_eta_s=120.0,
        route={"type": "Feature"},
    )
    return replace(base, **changes)
