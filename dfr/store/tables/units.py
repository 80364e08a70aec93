"""The responding units the CAD reports for each incident (table ``incident_units``, one
row per incident and unit; a report of a known unit replaces its row)."""

from __future__ import annotations

from collections.abc import Sequence

from dfr.records import UnitStatus
from dfr.store.database import Database, Write
from dfr.store.rows import Table

UNITS = Table.of("incident_units", UnitStatus)

UPSERT = (
    UNITS.insert_sql()
    + " ON CONFLICT (incident_id, unit_id) DO UPDATE SET dispatched_at = excluded.dispatched_at,"
    " arrived_at = excluded.arrived_at, updated_at = excluded.updated_at"
)


class StoredUnits(Database):
    async def put_units(self, units: Sequence[UnitStatus]) -> None:
        if units:
            await self._write_together([Write(UPSERT, [self._row(UNITS, u) for u in units])])

    async def list_units(self, incident_ids: Sequence[str]) -> list[UnitStatus]:
        return await self._fetch_all(
            UNITS,
            f"SELECT * FROM incident_units WHERE {self.dialect.any_of('incident_id')}"
            " ORDER BY incident_id, unit_id",
            (self.dialect.ids(incident_ids),),
        )
