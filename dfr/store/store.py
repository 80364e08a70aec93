"""What the service needs from persistence. SQLite implements it here
(:mod:`dfr.store.sqlite`); a PostgreSQL implementation can be added behind the same
protocol for several service instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from dfr.auth.accounts import AccountStore
from dfr.auth.api_keys import ApiKeyStore
from dfr.auth.viewer_links import ViewerLinkStore
from dfr.records import (
    Alert,
    CommandRecord,
    CommandState,
    DispatchDecision,
    Flight,
    FlightEnd,
    FlightPhase,
    Incident,
    IncidentStatus,
    PhaseChange,
    Recording,
    TrackPoint,
)


class Store(AccountStore, ApiKeyStore, ViewerLinkStore, Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    # incidents
    async def insert_incident(self, incident: Incident) -> Incident:
        """Insert, or return the stored incident with the same ``cad_id`` unchanged."""
        ...

    async def update_incident(self, incident: Incident) -> None: ...

    async def get_incident(self, incident_id: str) -> Incident | None: ...

    async def get_incident_by_cad_id(self, cad_id: str) -> Incident | None: ...

    async def list_incidents(
        self, *, status: IncidentStatus | None = None, limit: int = 200
    ) -> list[Incident]: ...

    # dispatch
    async def add_decision(
        self,
        incident_id: str,
        *,
        outcome: str,
        chosen_drone_id: str | None,
        ranking: list[dict[str, Any]],
        rejections: list[dict[str, Any]],
        elapsed_ms: float,
        decided_at: datetime,
    ) -> DispatchDecision: ...

    async def list_decisions(self, incident_id: str) -> list[DispatchDecision]: ...

    # flights
    async def insert_flight(self, flight: Flight, reason: str) -> None: ...

    async def set_flight_phase(
        self,
        flight_id: str,
        phase: FlightPhase,
        reason: str,
        at: datetime,
        *,
        end: FlightEnd | None = None,
    ) -> Flight:
        """The phase change; with ``end``, the flight's end and its incident's new status
        too — all in one transaction, so a crash leaves either none or all of it."""
        ...

    async def retarget_flight(
        self, flight_id: str, incident_id: str | None, route: dict[str, Any], at: datetime
    ) -> Flight: ...

    async def end_flight(self, flight_id: str, outcome: str, at: datetime) -> Flight: ...

    async def get_flight(self, flight_id: str) -> Flight | None: ...

    async def list_flights(
        self, *, active_only: bool = False, drone_id: str | None = None, limit: int = 200
    ) -> list[Flight]: ...

    async def list_phases(self, flight_id: str) -> list[PhaseChange]: ...

    async def add_track_points(self, points: list[TrackPoint]) -> None: ...

    async def list_track(self, flight_id: str) -> list[TrackPoint]: ...

    # commands
    async def add_command(
        self,
        *,
        flight_id: str | None,
        drone_id: str,
        type: str,
        params: dict[str, Any],
        issued_by: str,
        issued_at: datetime,
    ) -> CommandRecord: ...

    async def finish_command(
        self, command_id: int, state: CommandState, result: str, at: datetime
    ) -> None: ...

    async def list_commands(
        self, *, flight_id: str | None = None, state: CommandState | None = None
    ) -> list[CommandRecord]: ...

    # alerts
    async def add_alert(
        self,
        *,
        drone_id: str,
        flight_id: str | None,
        kind: str,
        severity: str,
        message: str,
        action: str,
        at: datetime,
    ) -> Alert: ...

    async def list_alerts(
        self, *, flight_id: str | None = None, limit: int = 200
    ) -> list[Alert]: ...

    # recordings
    async def add_recording(self, recording: Recording) -> Recording:
        """Insert (``recording.id`` is ignored); returns it with its new id."""
        ...

    async def update_recording(self, recording: Recording) -> None:
        """Store what is known at close (all but id, flight, drone and path)."""
        ...

    async def list_open_recordings(self) -> list[Recording]:
        """Recordings never closed (``ended_at`` None): in progress, or left by a crash."""
        ...

    async def list_recordings(self, flight_id: str) -> list[Recording]: ...
