"""The flown track: one sample a second of every airborne flight, each on disk within the
second (a crash loses at most one), in one transaction for all flights."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from dfr.fleet.active_flight import ActiveFlight
from dfr.fleet.drone_state import DroneState
from dfr.records import FlightPhase, TrackPoint
from dfr.store.store import Store

logger = logging.getLogger(__name__)

TRACK_INTERVAL_S = 1.0
AIRBORNE = frozenset(
    {
        FlightPhase.LAUNCHING,
        FlightPhase.ENROUTE,
        FlightPhase.ON_SCENE,
        FlightPhase.RETURNING,
        FlightPhase.LANDING,
        FlightPhase.FAILSAFE,
    }
)


def _finite_or(value: float, default: float) -> float:
    return value if math.isfinite(value) else default


def track_point(flight_id: str, state: DroneState) -> TrackPoint:
    """The sample of ``state`` (a value the vehicle has not given yet is 0, battery -1)."""
    return TrackPoint(
        flight_id=flight_id,
        t=state.updated_at or datetime.now(UTC),
        lat_deg=state.lat_deg,
        lon_deg=state.lon_deg,
        alt_amsl_m=state.alt_amsl_m,
        alt_rel_m=state.alt_rel_m,
        heading_deg=_finite_or(state.heading_deg, 0.0),
        ground_speed_mps=_finite_or(state.ground_speed_mps, 0.0),
        battery_pct=_finite_or(state.battery_pct, -1.0),
        mode=state.mode,
    )


async def track_loop(
    store: Store,
    flights: Callable[[], Iterable[ActiveFlight]],
    state_of: Callable[[str], DroneState],
) -> None:
    """Sample every airborne flight each TRACK_INTERVAL_S and write the samples."""
    while True:
        await asyncio.sleep(TRACK_INTERVAL_S)
        actives = list(flights())
        for active in actives:
            state = state_of(active.record.drone_id)
            if not state.has_position or active.record.phase not in AIRBORNE:
                continue
            active.track.append(track_point(active.record.id, state))
        try:  # every sample is on disk within TRACK_INTERVAL_S: a crash loses at most that
            await flush_tracks(store, flights())
        except Exception:
            logger.exception("track points not written; kept for the next try")


async def flush_track(store: Store, active: ActiveFlight) -> None:
    """Write one flight's pending samples (before its end is written)."""
    points, active.track = active.track, []
    try:
        await store.add_track_points(points)
    except Exception:
        active.track[:0] = points  # written with the next batch
        raise


async def flush_tracks(store: Store, actives: Iterable[ActiveFlight]) -> None:
    """Write every flight's pending samples in one transaction."""
    taken = [(active, active.track) for active in actives if active.track]
    for active, _points in taken:
        active.track = []
    try:
        await store.add_track_points([p for _active, points in taken for p in points])
    except Exception:
        for active, points in taken:
            active.track[:0] = points  # written with the next batch
        raise
