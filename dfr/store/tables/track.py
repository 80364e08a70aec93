"""Track logs (table ``track_points``): a flight's positions, written in batches (one
transaction a batch)."""

from __future__ import annotations

from collections.abc import Sequence

from dfr.records import TrackPoint
from dfr.store.database import Database, Write
from dfr.store.rows import Table

TRACK = Table.of("track_points", TrackPoint)


class StoredTrack(Database):
    async def add_track_points(self, points: list[TrackPoint]) -> None:
        if points:
            await self._write_together(
                [Write(TRACK.insert_sql(), [self._row(TRACK, p) for p in points])]
            )

    async def list_track(self, flight_id: str) -> list[TrackPoint]:
        return await self._fetch_all(
            TRACK, "SELECT * FROM track_points WHERE flight_id = ? ORDER BY t", (flight_id,)
        )

    async def battery_spans(self, flight_ids: Sequence[str]) -> dict[str, tuple[float, float]]:
        spans = await self._select(
            "SELECT f.value AS flight_id,"
            " (SELECT battery_pct FROM track_points WHERE flight_id = f.value"
            "  ORDER BY t LIMIT 1) AS first_pct,"
            " (SELECT battery_pct FROM track_points WHERE flight_id = f.value"
            "  ORDER BY t DESC LIMIT 1) AS last_pct"
            f" FROM {self.dialect.id_rows('f')}",
            (self.dialect.ids(flight_ids),),
            lambda r: (r["flight_id"], r["first_pct"], r["last_pct"]),
        )
        return {
            flight_id: (float(first), float(last))
            for flight_id, first, last in spans
            if first is not None
        }
