"""The outcome metrics as CSV: one row per incident of the window, a header row first."""

from __future__ import annotations

import csv
import io

from dfr.metrics.outcomes import STEPS, IncidentOutcome, Outcomes
from dfr.timestamps import iso_utc

COLUMNS = (
    "incident_id",
    "cad_id",
    "priority",
    "nature",
    "status",
    "received_at",
    "flight_id",
    "drone_id",
    *STEPS,
    "units_reported",
    "drone_lead_s",
    "drone_first",
    "cleared_without_officer",
    "battery_used_pct",
)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """CAD text as a spreadsheet shows it, never as a formula it runs."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _cell(value: object) -> str:
    if value is None:
        return ""  # unknown is empty, never 0
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _row(outcome: IncidentOutcome, battery_used_pct: float | None) -> list[str]:
    incident, flight = outcome.incident, outcome.flight
    values: list[object] = [
        incident.id,
        _text(incident.cad_id),
        incident.priority,
        _text(incident.nature),
        incident.status.value,
        iso_utc(incident.received_at),
        flight.id if flight else None,
        flight.drone_id if flight else None,
        *(outcome.steps_s[step] for step in STEPS),
        outcome.units_reported,
        outcome.drone_lead_s,
        outcome.drone_first,
        outcome.cleared_without_officer,
        battery_used_pct,
    ]
    return [_cell(v) for v in values]


def incidents_csv(result: Outcomes) -> str:
    used = {f.flight.id: f.battery_used_pct for f in result.flights}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for outcome in result.incidents:
        flight = outcome.flight
        writer.writerow(_row(outcome, used.get(flight.id) if flight else None))
    return out.getvalue()
