"""Bodies of calls and incidents (with their dispatch decision)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from dfr.api.schemas.common import BodyOut
from dfr.records import Incident


class IncidentLocationOut(BodyOut):
    lat: float
    lon: float
    uncertainty_m: float | None = Field(description="radius of the caller's location circle")


class CandidateOut(BaseModel):
    """A drone that can serve the call, with its planned figures (None: not computable)."""

    model_config = ConfigDict(extra="allow")  # stored decisions keep whatever they recorded
    drone_id: str
    dock_id: str
    eta_s: float | None = None
    distance_m: float | None = None
    energy_needed_wh: float | None = None
    energy_usable_wh: float | None = None
    authorisation_required: bool = False


class RejectionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    drone_id: str
    reason: str


class DecisionOut(BodyOut):
    """The incident's latest dispatch decision."""

    outcome: str = Field(description="auto_launch | awaiting_pilot | queued | pilot_launch | …")
    chosen_drone_id: str | None
    ranking: list[CandidateOut] = Field(description="feasible drones, best first")
    rejections: list[RejectionOut]
    decided_at: str
    elapsed_ms: float


class IncidentOut(BodyOut):
    id: str
    cad_id: str
    source: str
    nature: str
    priority: int
    location: IncidentLocationOut
    address: str
    notes: str
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    status: str
    flight_id: str | None = None
    decision: DecisionOut | None = None

    @classmethod
    def of(
        cls,
        incident: Incident,
        *,
        flight_id: str | None = None,
        decision: DecisionOut | None = None,
    ) -> IncidentOut:
        return cls(
            id=incident.id,
            cad_id=incident.cad_id,
            source=incident.source,
            nature=incident.nature,
            priority=incident.priority,
            location=IncidentLocationOut(
                lat=incident.lat_deg, lon=incident.lon_deg, uncertainty_m=incident.uncertainty_m
            ),
            address=incident.address,
            notes=incident.notes,
            received_at=incident.received_at,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            status=incident.status.value,
            flight_id=flight_id,
            decision=decision,
        )


class CallOut(IncidentOut):
    """The incident a call made (201) or updated (200)."""

    changed: list[str] = Field(description="what a repeated call changed (location, priority …)")
