"""Alerts on a flight: written to the store, logged and published to the pilots, and the
ones raised from what the link and the vehicle say (link lost/back, the vehicle's own
warnings). Each says what happened and what the system is doing about it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dfr.fleet.active_flight import ActiveFlight
from dfr.fleet.drone_state import LinkState
from dfr.fleet.launch import REFUSED_TEXTS
from dfr.fleet.monitor import AlertSpec
from dfr.records import FlightPhase
from dfr.store.store import Store

logger = logging.getLogger(__name__)

ALERT_SEVERITIES = frozenset({"emergency", "alert", "critical", "error"})


async def raise_alert(
    store: Store, publish: Callable[[dict[str, Any]], None], active: ActiveFlight, spec: AlertSpec
) -> None:
    """Write the alert on ``active``'s flight, log it and publish it."""
    record = active.record
    alert = await store.add_alert(
        drone_id=record.drone_id,
        flight_id=record.id,
        kind=spec.kind,
        severity=spec.severity,
        message=spec.message,
        action=spec.action,
        at=datetime.now(UTC),
    )
    logger.warning("%s: %s: %s — %s", record.drone_id, spec.kind, spec.message, spec.action)
    publish(
        {
            "type": "alert",
            "alert_id": alert.id,
            "drone_id": record.drone_id,
            "flight_id": record.id,
            "kind": spec.kind,
            "severity": spec.severity,
            "message": spec.message,
            "action": spec.action,
        }
    )


def link_alert(
    seen: LinkState | None, now: LinkState, cause: str = "no heartbeat"
) -> AlertSpec | None:
    """The alert for a flying drone's link going from ``seen`` to ``now``, if any
    (``cause``: why the link shows lost, as the link says)."""
    if now is LinkState.LOST:
        return AlertSpec(
            "link_lost",
            "critical",
            f"MAVLink link lost ({cause})",
            "the vehicle's own data-link failsafe acts (NAV_DLL_ACT); reconnecting",
        )
    if now is LinkState.UP and seen is LinkState.LOST:
        return AlertSpec("link_back", "info", "MAVLink link back", "monitoring resumed")
    return None


def vehicle_text_alert(phase: FlightPhase, severity: str, text: str) -> AlertSpec | None:
    """The alert for a STATUSTEXT from a flying drone: its warnings reach the pilot, but not
    the launch's "not yet" (the launch asks again; one that fails raises its own alert)."""
    if severity not in ALERT_SEVERITIES:
        return None
    if phase is FlightPhase.LAUNCHING and any(marker in text for marker in REFUSED_TEXTS):
        return None
    return AlertSpec(
        "vehicle",
        "critical" if severity != "error" else "warning",
        f"vehicle: {text}",
        "shown to the pilot; the flight follows the vehicle's mode",
    )
