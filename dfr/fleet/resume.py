"""After a restart: rebuild every active flight from the store and live telemetry.

A command whose answer never came is marked ``unknown`` and is not sent again; a flight
left in a terminal phase without its end is ended from what was written; every other
active flight is started again in its phase (``preflight`` resumes as ``launching``:
the vehicle may have been armed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container
from datetime import UTC, datetime

from shapely.geometry import LineString

from dfr.fleet.flight_phases import TERMINAL
from dfr.fleet.flight_plan import FlightPlan, plan_from_record
from dfr.fleet.phase_changes import incident_status_after
from dfr.geo.frame import LocalFrame
from dfr.records import CommandState, FlightEnd, FlightPhase
from dfr.records import Flight as FlightRecord
from dfr.store.store import Store

logger = logging.getLogger(__name__)

# starts a flight's machine: (record, plan, phase, route in the local frame, reached_scene)
StartFlight = Callable[[FlightRecord, FlightPlan, FlightPhase, LineString, bool], None]


def _now() -> datetime:
    return datetime.now(UTC)


async def resume_flights(
    store: Store,
    drones: Container[str],
    frame: LocalFrame,
    start: StartFlight,
    *,
    taken_over: bool = False,
) -> list[str]:
    """Rebuild active flights from the store (for the drones this site still has);
    pending commands become ``unknown``. Returns the ids of the flights resumed.

    ``taken_over``: ``drones`` are the ones another instance owned until it stopped; only
    their commands and flights are touched (the rest belong to live instances)."""
    why = (
        "its owner instance stopped before the vehicle answered; not re-sent"
        if taken_over
        else "service stopped before the vehicle answered; not re-sent"
    )
    for command in await store.list_commands(state=CommandState.PENDING):
        if not taken_over or command.drone_id in drones:
            await store.finish_command(command.id, CommandState.UNKNOWN, why, _now())
    for record in await store.list_flights(limit=1000):
        ours = not taken_over or record.drone_id in drones
        if ours and record.ended_at is None and record.phase in TERMINAL:
            await _end_unfinished(store, record)
    resumed = []
    for record in await store.list_flights(active_only=True):
        if record.drone_id not in drones:
            if taken_over:
                continue  # another instance's drone
            logger.warning(
                "flight %s: drone %s is not in this site any more", record.id, record.drone_id
            )
            continue
        coords = record.route.get("geometry", {}).get("coordinates", [])
        xy = [frame.to_xy(lat, lon) for lon, lat, *_ in coords] or [(0.0, 0.0)] * 2
        phase = record.phase if record.phase is not FlightPhase.PREFLIGHT else FlightPhase.LAUNCHING
        history = {p.phase for p in await store.list_phases(record.id)}
        start(
            record,
            plan_from_record(record.route),
            phase,
            LineString(xy if len(xy) > 1 else xy * 2),
            FlightPhase.ON_SCENE in history,
        )
        resumed.append(record.id)
        logger.info("%s: resumed flight %s in phase %s", record.drone_id, record.id, record.phase)
    return resumed


async def _end_unfinished(store: Store, record: FlightRecord) -> None:
    """A flight in a terminal phase without an end, decided from what was written: a
    flight that never left ``docked`` sent nothing (it waits for a pilot); one that
    reached ``docked`` again after flying (written by a version that ended flights in a
    second step) is ended as docked. Never dispatched again by itself."""
    phases = [p.phase for p in await store.list_phases(record.id)]
    flew = len(phases) > 1
    if record.phase is FlightPhase.DOCKED and not flew:
        phase, reason, outcome = (
            FlightPhase.ABORTED,
            "service stopped before preflight; nothing sent",
            "launch_failed",
        )
    else:
        phase, reason, outcome = record.phase, "ended at restart", record.phase.value
    await store.set_flight_phase(
        record.id,
        phase,
        reason,
        _now(),
        end=FlightEnd(outcome, incident_status_after(outcome)),
    )
