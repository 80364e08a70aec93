"""Which of the service's events go into the audit trail, and as what: dispatch
decisions and launches, commands accepted by a vehicle (with who issued them), and
each closed recording with its SHA-256 (so a video's hash is in the chain)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dfr.audit.trail import AuditTrail


def audit_event(trail: AuditTrail, body: Mapping[str, Any]) -> None:
    kind = body.get("type")
    if kind == "dispatch":
        trail.append(
            actor=str(body.get("by") or "automation"),
            action="dispatch",
            target=f"incident:{body.get('incident_id')}",
            outcome=str(body.get("outcome")),
            detail={
                "drone_id": body.get("chosen_drone_id"),
                "flight_id": body.get("flight_id"),
                **(
                    {"from_incident_id": body["from_incident_id"]}
                    if "from_incident_id" in body
                    else {}
                ),
            },
        )
    elif kind == "command":
        trail.append(
            actor=str(body.get("by") or "automation"),
            action="command",
            target=f"flight:{body.get('flight_id')}",
            outcome=str(body.get("state")),
            detail={"command": body.get("command"), "drone_id": body.get("drone_id")},
        )
    elif kind == "recording" and body.get("sha256"):
        trail.append(
            actor="service",
            action="recording_closed",
            target=f"flight:{body.get('flight_id')}",
            outcome="ok",
            detail={
                "recording_id": body.get("recording_id"),
                "drone_id": body.get("drone_id"),
                "sha256": body.get("sha256"),
                "duration_s": body.get("duration_s"),
                "note": body.get("note", ""),
            },
        )
