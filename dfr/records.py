"""The records the service keeps: what a call became, what was decided, what flew.

Values only (frozen dataclasses and enums); the store persists them, the API turns
them into JSON. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def utc_now() -> datetime:
    return datetime.now(UTC)


class IncidentStatus(StrEnum):
    NEW = "new"  # received, not yet decided
    AWAITING_PILOT = "awaiting_pilot"  # a drone is proposed; policy wants a pilot's launch
    QUEUED = "queued"  # no drone can go now; served when one becomes free
    DISPATCHED = "dispatched"  # a flight exists for it
    CLOSED = "closed"  # its flight ended
    CANCELLED = "cancelled"  # the CAD cancelled the call


class FlightPhase(StrEnum):
    DOCKED = "docked"
    PREFLIGHT = "preflight"
    LAUNCHING = "launching"
    ENROUTE = "enroute"
    ON_SCENE = "on_scene"
    RETURNING = "returning"
    LANDING = "landing"
    ABORTED = "aborted"
    FAILSAFE = "failsafe"


ACTIVE_PHASES = frozenset(
    {
        FlightPhase.PREFLIGHT,
        FlightPhase.LAUNCHING,
        FlightPhase.ENROUTE,
        FlightPhase.ON_SCENE,
        FlightPhase.RETURNING,
        FlightPhase.LANDING,
        FlightPhase.FAILSAFE,
    }
)


class CommandState(StrEnum):
    PENDING = "pending"  # sent (or about to be); outcome not known yet
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # refused by us (airspace, state) or by the vehicle
    UNKNOWN = "unknown"  # no answer in time, or the service stopped while waiting


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    cad_id: str
    source: str  # "json" | "eido"
    nature: str
    priority: int  # 1 = most urgent … 5
    lat_deg: float
    lon_deg: float
    address: str
    notes: str
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    status: IncidentStatus
    uncertainty_m: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UnitStatus:
    """A responding unit (an officer's car, a crew) on an incident, as the CAD reports
    it: when it was dispatched and when it arrived on scene (None: not reported yet)."""

    incident_id: str
    unit_id: str
    dispatched_at: datetime | None
    arrived_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DockHold:
    """A person put a dock on hold (lightning near, a crowd at the dock, maintenance): its
    drones take no call until the hold is lifted; a drone already flying is not recalled."""

    dock_id: str
    reason: str
    held_by: str
    held_at: datetime

    @property
    def text(self) -> str:
        """``dock hq on hold: lightning within 10 km (by sam)``"""
        return f"dock {self.dock_id} on hold: {self.reason} (by {self.held_by})"


@dataclass(frozen=True, slots=True)
class DispatchDecision:
    id: int
    incident_id: str
    decided_at: datetime
    outcome: str  # "auto_launch" | "awaiting_pilot" | "queued" | "pilot_launch"
    chosen_drone_id: str | None
    ranking: list[dict[str, Any]]  # ranked candidates, best first, with ETA and energy
    rejections: list[dict[str, Any]]  # {"drone_id", "reason"}
    elapsed_ms: float


@dataclass(frozen=True, slots=True)
class Flight:
    id: str
    incident_id: str | None
    drone_id: str
    dock_id: str
    phase: FlightPhase
    created_at: datetime
    updated_at: datetime
    planned_eta_s: float | None
    route: dict[str, Any]  # GeoJSON Feature of the planned route
    ended_at: datetime | None = None
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class FlightEnd:
    """What a terminal phase change writes with it, in the same transaction: the flight's
    outcome and end, and (if its incident is still ``dispatched``) the incident's status."""

    outcome: str
    incident_status: IncidentStatus


@dataclass(frozen=True, slots=True)
class PhaseChange:
    flight_id: str
    phase: FlightPhase
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class TrackPoint:
    flight_id: str
    t: datetime
    lat_deg: float
    lon_deg: float
    alt_amsl_m: float
    alt_rel_m: float
    heading_deg: float
    ground_speed_mps: float
    battery_pct: float
    mode: str


@dataclass(frozen=True, slots=True)
class CommandRecord:
    id: int
    flight_id: str | None
    drone_id: str
    type: str
    params: dict[str, Any]
    issued_at: datetime
    issued_by: str
    state: CommandState
    result: str
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    drone_id: str
    flight_id: str | None
    kind: str
    severity: str  # "info" | "warning" | "critical"
    message: str  # what happened
    action: str  # what the system is doing about it
    at: datetime


@dataclass(frozen=True, slots=True)
class Recording:
    """One segment of a flight's video. A row exists from the moment recording starts;
    until the file is closed ``ended_at`` is None and ``sha256`` is empty. A file left by a
    crash is closed at the next start (hash, duration and size from the file as found)
    and says so in ``note``."""

    id: int
    flight_id: str
    drone_id: str
    path: str
    duration_s: float
    size_bytes: int
    sha256: str
    frame_count: int
    started_at: datetime | None
    ended_at: datetime | None
    note: str = ""

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
