"""The JSON bodies the service publishes on its event bus: ``position`` on
``/ws/telemetry``; ``incident``, ``incident_updated``, ``dispatch``, ``alert``, ``dock_hold`` and
``vehicle_limits`` on ``/ws/events`` (the flight's own events are built by
:mod:`dfr.fleet.sorties`). Every body has ``type``; the bus adds ``t`` to events.

Numbers a vehicle has not reported yet (NaN) are ``null``.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from dfr.dispatch.dispatcher import Decision
from dfr.dispatch.incidents import IntakeResult
from dfr.fleet.drone_state import DroneState
from dfr.planning.vehicle_limits import VehicleLimits
from dfr.records import Alert, DockHold, Flight, Incident
from dfr.timestamps import iso_utc


def _num(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


def position_body(state: DroneState, *, flight_id: str | None, phase: str) -> dict[str, Any]:
    """One drone update (the ARCHITECTURE contract of ``/ws/telemetry``); ``phase`` is
    the flight's, ``docked`` without one."""
    return {
        "type": "position",
        "drone_id": state.drone_id,
        "t": iso_utc(state.updated_at or datetime.now(UTC)),
        "lat": _num(state.lat_deg, 7),
        "lon": _num(state.lon_deg, 7),
        "alt_amsl_m": _num(state.alt_amsl_m, 2),
        "alt_rel_m": _num(state.alt_rel_m, 2),
        "heading_deg": _num(state.heading_deg, 1),
        "ground_speed_mps": _num(state.ground_speed_mps, 2),
        "battery_pct": _num(state.battery_pct, 1),
        "mode": state.mode,
        "armed": state.armed,
        "landed": state.landed.value,
        "link": state.link.value,
        "health_ok": state.health_ok,
        "armable": state.armable,
        "flight_id": flight_id,
        "phase": phase,
    }


def incident_body(incident: Incident) -> dict[str, Any]:
    """A new incident from a call."""
    return {
        "type": "incident",
        "incident_id": incident.id,
        "cad_id": incident.cad_id,
        "status": incident.status.value,
        "priority": incident.priority,
        "nature": incident.nature,
        "lat": incident.lat_deg,
        "lon": incident.lon_deg,
    }


def incident_updated_body(result: IntakeResult) -> dict[str, Any]:
    """A repeated call that changed its incident (``result.changed`` is not empty)."""
    incident = result.incident
    return {
        "type": "incident_updated",
        "incident_id": incident.id,
        "cad_id": incident.cad_id,
        "changed": list(result.changed),
        "status": incident.status.value,
        "message": (
            "the CAD reported a new location for an incident being flown; "
            "the drone keeps its target until a pilot retargets it"
            if result.pending_location
            else f"call updated: {', '.join(result.changed)}"
        ),
    }


def dispatch_body(
    incident_id: str, decision: Decision, flight: Flight | None, *, by: str
) -> dict[str, Any]:
    """What the dispatcher decided for an incident (``by`` a pilot or "automation"), with
    its ranking and rejections."""
    return {
        "type": "dispatch",
        "by": by,
        "incident_id": incident_id,
        "outcome": decision.outcome.value,
        "chosen_drone_id": decision.chosen.drone_id if decision.chosen else None,
        "flight_id": flight.id if flight else None,
        "ranking": decision.ranking,
        "rejections": decision.rejections,
        "elapsed_ms": round(decision.elapsed_ms, 2),
    }


def diverted_body(
    incident_id: str, flight: Flight, from_incident_id: str | None, *, by: str
) -> dict[str, Any]:
    """A pilot (``by``) took a flying drone (``flight``) from another call for this one."""
    return {
        "type": "dispatch",
        "by": by,
        "incident_id": incident_id,
        "outcome": "diverted",
        "chosen_drone_id": flight.drone_id,
        "flight_id": flight.id,
        "from_incident_id": from_incident_id,
    }


def dock_hold_body(dock_id: str, hold: DockHold | None, *, by: str) -> dict[str, Any]:
    """A dock put on hold (``hold``) or its hold lifted (None) by ``by``."""
    return {
        "type": "dock_hold",
        "dock_id": dock_id,
        "held": hold is not None,
        "reason": hold.reason if hold else None,
        "by": by,
        "held_at": iso_utc(hold.held_at) if hold else None,
    }


def alert_body(alert: Alert) -> dict[str, Any]:
    """An alert as stored: what happened, and what the system is doing about it."""
    return {
        "type": "alert",
        "alert_id": alert.id,
        "drone_id": alert.drone_id,
        "flight_id": alert.flight_id,
        "kind": alert.kind,
        "severity": alert.severity,
        "message": alert.message,
        "action": alert.action,
    }


def vehicle_limits_body(
    drone_id: str, limits: VehicleLimits, disagreements: list[str]
) -> dict[str, Any]:
    """What the vehicle's own parameters allow, and where the site's figures disagree."""
    return {
        "type": "vehicle_limits",
        "drone_id": drone_id,
        "limits": asdict(limits),
        "disagreements": disagreements,
    }
