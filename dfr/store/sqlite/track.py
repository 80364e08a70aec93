"""Track logs in SQLite (table ``track_points``): a flight's positions, written in
batches (one transaction a batch)."""

from __future__ import annotations

from collections.abc import Sequence

from dfr.records import TrackPoint
from dfr.store.sqlite.database import Database
from dfr.store.sqlite.rows import Table, id_list
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

    async def battery_spans(self, flight_ids: Sequence[str]) -> dict[str, tuple[float, float]]:
        def work() -> dict[str, tuple[float, float]]:
            rows = self._db.execute(
                "SELECT f.value AS flight_id,"
                " (SELECT battery_pct FROM track_points WHERE flight_id = f.value"
                "  ORDER BY t LIMIT 1) AS first_pct,"
                " (SELECT battery_pct FROM track_points WHERE flight_id = f.value"
                "  ORDER BY t DESC LIMIT 1) AS last_pct"
                " FROM json_each(?) AS f",
                (id_list(flight_ids),),
            )
            return {
                r["flight_id"]: (float(r["first_pct"]), float(r["last_pct"]))
                for r in rows
                if r["first_pct"] is not None
            }

        return await self._run(work)
