"""Request and response bodies of the HTTP API (pydantic lives at the edges only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dfr.store.records import Incident

# Request bodies refuse inf and NaN (Python's JSON reader takes ``Infinity``, ``NaN`` and
# ``1e400``; no JSON answer could carry them back), naming the field, before anything runs.
STRICT_INPUT = ConfigDict(extra="forbid", allow_inf_nan=False)


class LocationIn(BaseModel):
    model_config = STRICT_INPUT
    lat: Annotated[float, Field(ge=-90, le=90, description="latitude, degrees WGS84")]
    lon: Annotated[float, Field(ge=-180, le=180, description="longitude, degrees WGS84")]


class CallIn(BaseModel):
    """A CAD call in dfr's own JSON."""

    model_config = STRICT_INPUT
    cad_id: Annotated[
        str, Field(min_length=1, max_length=128, description="the CAD's id; idempotency key")
    ]
    nature: Annotated[str, Field(min_length=1, max_length=200)]
    priority: Annotated[int, Field(ge=1, le=5, description="1 = most urgent … 5")]
    location: LocationIn
    address: Annotated[str, Field(max_length=500)] = ""
    received_at: AwareDatetime | None = Field(None, description="ISO 8601 with a time zone")
    notes: Annotated[str, Field(max_length=10_000)] = ""
    cancelled: bool = False


class IncidentOut(BaseModel):
    id: str
    cad_id: str
    source: str
    nature: str
    priority: int
    location: dict[str, float | None]
    address: str
    notes: str
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    status: str
    flight_id: str | None = None
    decision: dict[str, Any] | None = None

    @classmethod
    def of(
        cls,
        incident: Incident,
        *,
        flight_id: str | None = None,
        decision: dict[str, Any] | None = None,
    ) -> IncidentOut:
        return cls(
            id=incident.id,
            cad_id=incident.cad_id,
            source=incident.source,
            nature=incident.nature,
            priority=incident.priority,
            location={
                "lat": incident.lat_deg,
                "lon": incident.lon_deg,
                "uncertainty_m": incident.uncertainty_m,
            },
            address=incident.address,
            notes=incident.notes,
            received_at=incident.received_at,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            status=incident.status.value,
            flight_id=flight_id,
            decision=decision,
        )


class LaunchIn(BaseModel):
    model_config = STRICT_INPUT
    drone_id: str | None = Field(None, description="launch this drone instead of the best one")
    divert: bool = Field(
        False,
        description="take drone_id from the flight it is on (only for a more urgent call): "
        "it flies here from where it is and its old call is dispatched again",
    )


class CommandIn(BaseModel):
    """A pilot command. ``orbit``: lat, lon, radius_m?, speed_mps?, alt_rel_m?; ``goto``:
    lat, lon, alt_rel_m?; ``altitude``: alt_rel_m; ``hold``, ``return``, ``land``: nothing."""

    model_config = STRICT_INPUT
    type: Literal["orbit", "goto", "altitude", "hold", "return", "land"]
    lat: float | None = None
    lon: float | None = None
    alt_rel_m: float | None = Field(None, description="altitude above the dock")
    radius_m: float | None = None
    speed_mps: float | None = None
    reason: str | None = None


class ErrorOut(BaseModel):
    error: str
    detail: str
    field: str | None = None
