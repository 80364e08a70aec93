"""The responding units a CAD reports with a call: from our JSON (``units``) and from an
EIDO document (``dispatchComponent``), and how a later report updates what is stored.

EIDO, as dfr reads it: each ``dispatchComponent`` is one unit sent to the incident,
named by ``dispatchUnitIdentifier`` (else its ``$id``), with its status changes in
``unitStatus``: a list of ``{"unitStatusCommonRegistryText", "unitStatusTimeStamp"}``.
A status of ``dispatched`` or ``assigned`` gives the unit's dispatch time, ``on scene``,
``onscene``, ``arrived`` or ``at scene`` (any case, any spacing) its arrival; other
statuses (en route, cleared, …) are read and not kept. A component may instead carry
``dispatchTimeStamp`` and ``arrivedOnSceneTimeStamp`` directly.

A report never forgets: a unit sent again without a time keeps the time it had; a
unit not in a later report keeps its row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dfr.errors import InvalidInput
from dfr.records import UnitStatus

DISPATCHED = frozenset({"dispatched", "assigned"})
ARRIVED = frozenset({"onscene", "arrived", "atscene"})


@dataclass(frozen=True, slots=True)
class UnitReport:
    """One unit as one CAD message reports it (None: this message does not say)."""

    unit_id: str
    dispatched_at: datetime | None = None
    arrived_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.unit_id.strip():
            raise InvalidInput("units.id", "a unit needs an id (the CAD's unit name)")
        if (
            self.dispatched_at is not None
            and self.arrived_at is not None
            and self.arrived_at < self.dispatched_at
        ):
            raise InvalidInput(
                f"units[{self.unit_id}].arrived_at",
                f"unit {self.unit_id} arrived ({self.arrived_at.isoformat()}) before it was "
                f"dispatched ({self.dispatched_at.isoformat()})",
            )


def merge_units(
    incident_id: str,
    stored: Iterable[UnitStatus],
    reports: Iterable[UnitReport],
    now: datetime,
) -> list[UnitStatus]:
    """The rows to write for ``reports`` over what is ``stored``: new units, and units
    whose times the reports change; nothing for a report that changes nothing."""
    rows: dict[str, UnitStatus] = {u.unit_id: u for u in stored}
    changed: dict[str, UnitStatus] = {}
    for report in reports:
        before = rows.get(report.unit_id)
        dispatched_at = report.dispatched_at or (before.dispatched_at if before else None)
        arrived_at = report.arrived_at or (before.arrived_at if before else None)
        if before is not None and (dispatched_at, arrived_at) == (
            before.dispatched_at,
            before.arrived_at,
        ):
            continue
        after = UnitStatus(incident_id, report.unit_id, dispatched_at, arrived_at, now)
        rows[report.unit_id] = changed[report.unit_id] = after
    return list(changed.values())


def _status_word(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


ParseTime = Callable[[Any, str], datetime | None]


def eido_units(components: list[dict[str, Any]], parse_time: ParseTime) -> tuple[UnitReport, ...]:
    """The units of an EIDO document's ``dispatchComponent`` list; ``parse_time(value,
    where)`` reads one timestamp (aware, UTC) or None."""
    reports: list[UnitReport] = []
    for i, component in enumerate(components):
        where = f"dispatchComponent[{i}]"
        unit_id = str(component.get("dispatchUnitIdentifier") or component.get("$id") or "").strip()
        if not unit_id:
            raise InvalidInput(
                f"{where}.dispatchUnitIdentifier", "missing (and the component has no $id)"
            )
        dispatched_at = parse_time(component.get("dispatchTimeStamp"), f"{where}.dispatchTimeStamp")
        arrived_at = parse_time(
            component.get("arrivedOnSceneTimeStamp"), f"{where}.arrivedOnSceneTimeStamp"
        )
        statuses = component.get("unitStatus") or []
        if not isinstance(statuses, list):
            statuses = [statuses]
        for j, status in enumerate(statuses):
            at_where = f"{where}.unitStatus[{j}]"
            if not isinstance(status, dict):
                raise InvalidInput(at_where, "must be an object")
            word = _status_word(str(status.get("unitStatusCommonRegistryText") or ""))
            at = parse_time(status.get("unitStatusTimeStamp"), f"{at_where}.unitStatusTimeStamp")
            if at is None:
                continue
            if word in DISPATCHED:
                dispatched_at = min(at, dispatched_at) if dispatched_at else at
            elif word in ARRIVED:
                arrived_at = min(at, arrived_at) if arrived_at else at
        reports.append(UnitReport(unit_id, dispatched_at, arrived_at))
    return tuple(reports)
