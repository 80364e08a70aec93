"""Response bodies of the HTTP API: what every route answers, as the OpenAPI document shows.

These describe the JSON the console (``web/``) and the tests read, field for field; a
route's handler returns one of them (or a dict of exactly its fields: ``extra="forbid"``
makes a body and its schema that drift apart fail loudly in the tests, not silently in
the console). Times are ISO 8601 UTC strings (``…Z``) unless a field says otherwise.
"""

from __future__ import annotations

from dfr.api.schemas.common import (
    ErrorOut,
    InvalidInputOut,
    ProblemOut,
)
from dfr.api.schemas.fleet import (
    ActiveWindowOut,
    AirspaceOut,
    DockHoldOut,
    DockOut,
    DroneOut,
    MapOut,
    MeOut,
    SiteOut,
    ZoneOut,
    ZonePropertiesOut,
)
from dfr.api.schemas.flights import (
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
from dfr.api.schemas.incidents import (
    CallOut,
    CandidateOut,
    DecisionOut,
    IncidentLocationOut,
    IncidentOut,
    RejectionOut,
)
from dfr.api.schemas.metrics import (
    DroneMetricsOut,
    FlightMetricsOut,
    IncidentMetricsOut,
    MetricsOut,
    ShareOut,
    StepOut,
    WindowOut,
)

__all__ = [
    "ActiveWindowOut",
    "AirspaceOut",
    "AlertOut",
    "CallOut",
    "CandidateOut",
    "CommandRecordOut",
    "CommandResultOut",
    "DecisionOut",
    "DockHoldOut",
    "DockOut",
    "DroneMetricsOut",
    "DroneOut",
    "ErrorOut",
    "FlightDetailOut",
    "FlightMetricsOut",
    "FlightOut",
    "IncidentLocationOut",
    "IncidentMetricsOut",
    "IncidentOut",
    "InvalidInputOut",
    "LineStringOut",
    "MapOut",
    "MeOut",
    "MetricsOut",
    "PhaseChangeOut",
    "ProblemOut",
    "RecordingOut",
    "RejectionOut",
    "ShareOut",
    "SiteOut",
    "StepOut",
    "TrackOut",
    "TrackPropertiesOut",
    "WindowOut",
    "ZoneOut",
    "ZonePropertiesOut",
]
