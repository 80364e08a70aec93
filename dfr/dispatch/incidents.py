"""Calls become incidents: idempotent by CAD id, with updates and cancellation.

A repeated call with the same ``cad_id`` and the same content returns the stored
incident unchanged. A repeated call whose priority, nature, notes or location changed
is an update: it is applied to an incident that has no flight yet; for one that is
already being flown the new location is recorded and announced, never applied to the
drone automatically (a pilot retargets with an orbit or goto command). A cancelled
status cancels the incident. The responding units a call reports are merged into the
incident's (:func:`dfr.dispatch.units.merge_units`): arrival times sent later update it,
in whatever state it is, and the update's ``changed`` says ``units``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from dfr.dispatch.intake import CallData
from dfr.dispatch.units import merge_units
from dfr.records import Incident, IncidentStatus
from dfr.store.store import Store

logger = logging.getLogger(__name__)

FLOWN = frozenset({IncidentStatus.DISPATCHED, IncidentStatus.CLOSED})


@dataclass(frozen=True, slots=True)
class IntakeResult:
    incident: Incident
    created: bool  # a new incident
    changed: tuple[str, ...]  # fields an update changed ("location", "priority", …, "cancelled")
    pending_location: bool = False  # a new location was reported for an incident in flight


def _new_incident(call: CallData, now: datetime) -> Incident:
    return Incident(
        id=f"inc-{uuid.uuid4().hex[:12]}",
        cad_id=call.cad_id,
        source=call.source,
        nature=call.nature,
        priority=call.priority,
        lat_deg=call.lat_deg,
        lon_deg=call.lon_deg,
        uncertainty_m=call.uncertainty_m,
        address=call.address,
        notes=call.notes,
        received_at=call.received_at,
        created_at=now,
        updated_at=now,
        status=IncidentStatus.CANCELLED if call.cancelled else IncidentStatus.NEW,
        raw={"call": call.raw},
    )


async def take_call(store: Store, call: CallData, now: datetime) -> IntakeResult:
    fresh = _new_incident(call, now)
    stored = await store.insert_incident(fresh)
    if stored.id == fresh.id:
        logger.info("incident %s from call %s (priority %d)", stored.id, call.cad_id, call.priority)
        await store.put_units(merge_units(stored.id, (), call.units, now))
        return IntakeResult(stored, created=True, changed=())

    changed: list[str] = []
    updated = stored
    pending_location = False
    if (call.lat_deg, call.lon_deg) != (stored.lat_deg, stored.lon_deg):
        changed.append("location")
        if stored.status in FLOWN:
            pending_location = True
            updates = [*stored.raw.get("location_updates", [])]
            updates.append({"lat": call.lat_deg, "lon": call.lon_deg, "at": now.isoformat()})
            updated = replace(updated, raw={**updated.raw, "location_updates": updates})
        else:
            updated = replace(
                updated,
                lat_deg=call.lat_deg,
                lon_deg=call.lon_deg,
                uncertainty_m=call.uncertainty_m,
            )
    for name in ("priority", "nature", "notes", "address"):
        if getattr(call, name) != getattr(stored, name):
            changed.append(name)
            updated = replace(updated, **{name: getattr(call, name)})
    if call.cancelled and stored.status is not IncidentStatus.CANCELLED:
        changed.append("cancelled")
        updated = replace(updated, status=IncidentStatus.CANCELLED)
    units = merge_units(stored.id, await store.list_units([stored.id]), call.units, now)
    if units:
        changed.append("units")
        await store.put_units(units)
    if changed:
        updated = replace(updated, updated_at=now)
        await store.update_incident(updated)
        logger.info(
            "incident %s updated by call %s: %s", stored.id, call.cad_id, ", ".join(changed)
        )
    return IntakeResult(
        updated, created=False, changed=tuple(changed), pending_location=pending_location
    )
