"""What follows from a flight's phase change: it is written (a terminal phase together
with the flight's end and its incident's status, in one transaction, after the track is
flushed and the recordings closed), published, and told to the pilot when it needs them
(a flight that ended without serving its call, the vehicle's own failsafe)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from dfr.fleet.active_flight import ActiveFlight
from dfr.fleet.flight_phases import TERMINAL
from dfr.fleet.monitor import AlertSpec, RaiseAlert
from dfr.fleet.track import flush_track
from dfr.records import Flight as FlightRecord
from dfr.records import FlightEnd, FlightPhase, IncidentStatus
from dfr.store.store import Store

logger = logging.getLogger(__name__)

# outcomes of a flight that leave its call unserved, and how to say so
UNSERVED = {
    "launch_failed": "could not launch",
    "landed_short": "came down before reaching the scene",
    "returned_short": "came back to its dock before reaching the scene",
}


def incident_status_after(outcome: str) -> IncidentStatus:
    """An unserved call waits for a person (never dispatched twice unless one asks)."""
    return IncidentStatus.AWAITING_PILOT if outcome in UNSERVED else IncidentStatus.CLOSED


class PhaseChanges:
    """Carries out the consequences of each phase change of the active flights."""

    def __init__(
        self,
        *,
        store: Store,
        publish: Callable[[dict[str, Any]], None],
        alert: RaiseAlert,
        status_text_of: Callable[[str], str],
        on_flight_end: Callable[[FlightRecord], Awaitable[None]] | None,
    ) -> None:
        self._store = store
        self._publish = publish
        self._alert = alert
        self._status_text_of = status_text_of
        self._on_flight_end = on_flight_end

    async def changed(
        self, active: ActiveFlight, phase: FlightPhase, reason: str, *, force_end: bool = False
    ) -> None:
        previous = active.record.phase
        end = None
        if phase in TERMINAL or force_end:
            await flush_track(self._store, active)
            await self._close_recordings(active.record)
            outcome = active.flight.outcome or phase.value
            end = FlightEnd(outcome, incident_status_after(outcome))
        record = await self._store.set_flight_phase(
            active.record.id, phase, reason, datetime.now(UTC), end=end
        )
        active.record = record
        if end is not None:
            await self._unserved(active)
        self._publish(
            {
                "type": "flight_phase",
                "flight_id": record.id,
                "drone_id": record.drone_id,
                "incident_id": record.incident_id,
                "phase": phase.value,
                "reason": reason,
            }
        )
        if phase is FlightPhase.FAILSAFE:
            mode = active.flight.unexpected_mode or "?"
            await self._alert(
                active,
                AlertSpec(
                    "mode_change",
                    "critical",
                    f"the vehicle switched to {mode} by itself while {previous.value} "
                    f"(last vehicle message: {self._status_text_of(record.drone_id) or 'none'})",
                    "the vehicle's own failsafe is flying it; pilot: check it, then return, land or take over",
                ),
            )

    async def finish(self, active: ActiveFlight, final: FlightPhase) -> None:
        """After the terminal phase (which wrote the flight's end and its incident's status
        in one transaction): close what hangs on the flight."""
        if active.record.ended_at is None:  # run() ended without a terminal phase change
            await self.changed(active, final, "flight ended", force_end=True)

    async def _close_recordings(self, record: FlightRecord) -> None:
        """Before the flight reads as ended: its recordings are closed and hashed."""
        if self._on_flight_end is not None:
            try:
                await self._on_flight_end(record)
            except Exception:
                logger.exception("%s: closing flight %s failed", record.drone_id, record.id)

    async def _unserved(self, active: ActiveFlight) -> None:
        """Tell the pilot at once when a flight ended without serving its call."""
        record = active.record
        if record.incident_id is None or record.outcome not in UNSERVED:
            return
        incident = await self._store.get_incident(record.incident_id)
        cad_id = incident.cad_id if incident is not None else record.incident_id
        await self._alert(
            active,
            AlertSpec(
                record.outcome,
                "critical",
                f"{record.drone_id} {UNSERVED[record.outcome]} for {cad_id}",
                "the call waits for a pilot: launch again, or choose another drone",
            ),
        )
