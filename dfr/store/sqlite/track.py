"""Track logs in SQLite (table ``track_points``): a flight's positions, written in
batches (one transaction a batch)."""

from __future__ import annotations

from dfr.records import TrackPoint
from dfr.store.sqlite.database import Database
from dfr.store.sqlite.rows import Table
from dfr.store.sqlite.transaction import transaction

TRACK = Table.of("track_points", TrackPoint)


class SqliteTrack(Database):
    async def add_track_points(self, points: list[TrackPoint]) -> None:
        if not points:
            return
        rows = [TRACK.to_row(p) for p in points]

        def work() -> None:
            db = self._db
            with transaction(db, immediate=False):
                db.executemany(TRACK.insert_sql(), rows)

        await self._run(work)

    async def list_track(self, flight_id: str) -> list[TrackPoint]:
        return await self._fetch_all(
            TRACK, "SELECT * FROM track_points WHERE flight_id = ? ORDER BY t", (flight_id,)
        )
