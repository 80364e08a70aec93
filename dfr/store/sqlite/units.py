"""The responding units the CAD reports for each incident in SQLite (table
``incident_units``, one row per incident and unit)."""

from __future__ import annotations

from collections.abc import Sequence

from dfr.records import UnitStatus
from dfr.store.sqlite.database import Database
from dfr.store.sqlite.rows import Table, id_list
from dfr.store.sqlite.transaction import transaction

UNITS = Table.of("incident_units", UnitStatus)

UPSERT = (
    UNITS.insert_sql()
    + " ON CONFLICT (incident_id, unit_id) DO UPDATE SET dispatched_at = excluded.dispatched_at,"
    " arrived_at = excluded.arrived_at, updated_at = excluded.updated_at"
)


class SqliteUnits(Database):
    async def put_units(self, units: Sequence[UnitStatus]) -> None:
        if not units:
            return
        rows = [UNITS.to_row(u) for u in units]

        def work() -> None:
            db = self._db
            with transaction(db):
                db.executemany(UPSERT, rows)

        await self._run(work)

    async def list_units(self, incident_ids: Sequence[str]) -> list[UnitStatus]:
        return await self._fetch_all(
            UNITS,
            "SELECT * FROM incident_units WHERE incident_id IN (SELECT value FROM json_each(?))"
            " ORDER BY incident_id, unit_id",
            (id_list(incident_ids),),
        )
