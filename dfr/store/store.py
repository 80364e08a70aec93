"""What the service needs from persistence. Two stores implement it with the same
record kinds (:mod:`dfr.store.tables`): SQLite, the embedded default
(:mod:`dfr.store.sqlite`), and PostgreSQL for several service instances
(:mod:`dfr.store.postgres`); :mod:`dfr.store.backend` opens the one the settings name."""

from __future__ import annotations

from collections.abc import Sequence
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
    DockHold,
    Flight,
    FlightEnd,
    FlightPhase,
    Incident,
    IncidentStatus,
    PhaseChange,
    Recording,
    TrackPoint,
    UnitStatus,
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

    async def list_incidents_received(
        self, start: datetime | None, end: datetime | None
    ) -> list[Incident]:
        """Incidents whose call came in at ``start`` ≤ received_at < ``end`` (None: no
        bound), oldest first."""
        ...

    # the responding units the CAD reports
    async def put_units(self, units: Sequence[UnitStatus]) -> None:
        """Insert each unit, or replace the stored one of the same incident and unit."""
        ...

    async def list_units(self, incident_ids: Sequence[str]) -> list[UnitStatus]: ...

    # docks on hold
    async def insert_dock_hold(self, hold: DockHold) -> bool:
        """Store the hold; False (nothing changed) if that dock is already on hold."""
        ...

    async def delete_dock_hold(self, dock_id: str) -> bool:
        """Lift the dock's hold; False if it was not on hold."""
        ...

    async def list_dock_holds(self) -> list[DockHold]: ...

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

    async def list_decisions_of(self, incident_ids: Sequence[str]) -> list[DispatchDecision]:
        """The decisions of every incident named, oldest first."""
        ...

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

    async def list_flights_in_window(
        self, start: datetime | None, end: datetime | None
    ) -> list[Flight]:
        """Flights created at ``start`` ≤ created_at < ``end``, and the flights of the
        incidents received in that window (None: no bound), oldest first."""
        ...

    async def list_phases(self, flight_id: str) -> list[PhaseChange]: ...

    async def list_phases_of(self, flight_ids: Sequence[str]) -> list[PhaseChange]:
        """The phase changes of every flight named, in the order they were written."""
        ...

    async def add_track_points(self, points: list[TrackPoint]) -> None: ...

    async def list_track(self, flight_id: str) -> list[TrackPoint]: ...

    async def battery_spans(self, flight_ids: Sequence[str]) -> dict[str, tuple[float, float]]:
        """Per flight named that has a track: the battery (%) at its first and its last
        track point."""
        ...

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
