"""The stored records the outcome metrics of a window are computed from."""

from __future__ import annotations

from collections.abc import Mapping

from dfr.metrics.outcomes import OutcomeRecords, Window
from dfr.store.store import Store


async def outcome_records(
    store: Store, window: Window, battery_wh: Mapping[str, float]
) -> OutcomeRecords:
    """The incidents received in ``window`` and the flights created in it (or flown for
    those incidents), with their decisions, phases, units and battery spans;
    ``battery_wh``: each drone's battery capacity."""
    incidents = await store.list_incidents_received(window.start, window.end)
    flights = await store.list_flights_in_window(window.start, window.end)
    incident_ids = [i.id for i in incidents]
    flight_ids = [f.id for f in flights]
    return OutcomeRecords(
        window=window,
        incidents=incidents,
        decisions=await store.list_decisions_of(incident_ids),
        flights=flights,
        phases=await store.list_phases_of(flight_ids),
        units=await store.list_units(incident_ids),
        battery_spans=await store.battery_spans(flight_ids),
        battery_wh=battery_wh,
    )
