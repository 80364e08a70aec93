"""Bodies of flights: the record, its phases, commands, alerts, recordings and track."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dfr.api.schemas.common import BodyOut
from dfr.records import Flight
from dfr.timestamps import iso_utc


class FlightOut(BodyOut):
    id: str
    incident_id: str | None
    drone_id: str
    dock_id: str
    phase: str
    created_at: str
    updated_at: str
    ended_at: str | None
    planned_eta_s: float | None
    outcome: str

    @classmethod
    def of(cls, flight: Flight) -> FlightOut:
        return cls(
            id=flight.id,
            incident_id=flight.incident_id,
            drone_id=flight.drone_id,
            dock_id=flight.dock_id,
            phase=flight.phase.value,
            created_at=iso_utc(flight.created_at),
            updated_at=iso_utc(flight.updated_at),
            ended_at=iso_utc(flight.ended_at) if flight.ended_at else None,
            planned_eta_s=flight.planned_eta_s,
            outcome=flight.outcome,
        )


class PhaseChangeOut(BodyOut):
    phase: str
    at: str
    reason: str


class CommandRecordOut(BodyOut):
    id: int
    type: str
    params: dict[str, Any]
    issued_at: str
    issued_by: str
    state: str
    result: str
    finished_at: str | None


class AlertOut(BodyOut):
    id: int
    kind: str
    severity: str = Field(description="info | warning | critical")
    message: str = Field(description="what happened")
    action: str = Field(description="what the system is doing about it")
    at: str


class RecordingOut(BodyOut):
    id: int
    duration_s: float
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the file; empty while it is being recorded")
    frame_count: int
    started_at: str | None
    ended_at: str | None
    note: str = Field(description="how it was closed when not the usual way (e.g. a crash)")
    url: str = Field(description="the MP4 of this recording")


class FlightDetailOut(FlightOut):
    phases: list[PhaseChangeOut]
    commands: list[CommandRecordOut]
    alerts: list[AlertOut]
    route: dict[str, Any] = Field(description="the planned route, a GeoJSON Feature")
    recordings: list[RecordingOut]


class CommandResultOut(BodyOut):
    """The vehicle's answer: 200 accepted, 409 rejected, 504 unknown (no answer in time)."""

    command_id: int
    state: Literal["accepted", "rejected", "unknown"]
    result: str
    detail: str


class LineStringOut(BodyOut):
    type: Literal["LineString"]
    coordinates: list[list[float]] = Field(description="[lon, lat, alt_amsl_m] per point")


class TrackPropertiesOut(BodyOut):
    flight_id: str
    times: list[str]
    alt_rel_m: list[float | None]
    ground_speed_mps: list[float | None]
    battery_pct: list[float | None]
    modes: list[str]
    points: int


class TrackOut(BodyOut):
    """The flown track as a GeoJSON Feature, per-point values in ``properties``."""

    type: Literal["Feature"]
    geometry: LineStringOut
    properties: TrackPropertiesOut
