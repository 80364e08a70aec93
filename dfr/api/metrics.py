"""Response-time metrics, computed the same way every time from the stored record:
call received → dispatch decision → launch command → airborne → on scene → back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dfr.records import Flight, FlightPhase
from dfr.store.store import Store

STEPS = ("decision_s", "launch_s", "airborne_s", "on_scene_s", "back_s")


def _since(start: datetime, at: datetime | None) -> float | None:
    return None if at is None else round((at - start).total_seconds(), 2)


async def incident_metrics(store: Store) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    flights_of: dict[str, list[Flight]] = {}
    for flight in await store.list_flights(limit=10_000):  # newest first
        if flight.incident_id is not None:
            flights_of.setdefault(flight.incident_id, []).append(flight)
    for incident in await store.list_incidents(limit=1000):
        decisions = await store.list_decisions(incident.id)
        first_decision = decisions[0].decided_at if decisions else None
        flights = flights_of.get(incident.id, [])
        phase_at: dict[FlightPhase, datetime] = {}
        if flights:
            for change in await store.list_phases(flights[0].id):
                phase_at.setdefault(change.phase, change.at)
        start = incident.received_at
        rows.append(
            {
                "incident_id": incident.id,
                "cad_id": incident.cad_id,
                "priority": incident.priority,
                "received_at": incident.received_at.isoformat(),
                "flight_id": flights[0].id if flights else None,
                "decision_s": _since(start, first_decision),
                "launch_s": _since(start, phase_at.get(FlightPhase.LAUNCHING)),
                "airborne_s": _since(start, phase_at.get(FlightPhase.ENROUTE)),
                "on_scene_s": _since(start, phase_at.get(FlightPhase.ON_SCENE)),
                "back_s": _since(
                    start,
                    flights[0].ended_at if flights and flights[0].outcome == "docked" else None,
                ),
            }
        )
    averages: dict[str, float | None] = {}
    for step in STEPS:
        values: list[float] = [float(r[step]) for r in rows if r[step] is not None]
        averages[step] = round(sum(values) / len(values), 2) if values else None
    return {"incidents": rows, "averages": averages, "count": len(rows)}
