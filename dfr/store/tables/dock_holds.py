"""Docks on hold (table ``dock_holds``, one row per dock held now): the store side of
:class:`dfr.dispatch.dock_holds.DockHolds`. Holding a held dock changes nothing, however
many service instances try at once: the primary key decides (``ON CONFLICT DO NOTHING``)."""

from __future__ import annotations

from dfr.records import DockHold
from dfr.store.database import Database
from dfr.store.rows import Table

DOCK_HOLDS = Table.of("dock_holds", DockHold)
INSERT = DOCK_HOLDS.insert_sql() + " ON CONFLICT (dock_id) DO NOTHING"


class StoredDockHolds(Database):
    async def insert_dock_hold(self, hold: DockHold) -> bool:
        return await self._execute(INSERT, self._row(DOCK_HOLDS, hold)) == 1

    async def delete_dock_hold(self, dock_id: str) -> bool:
        return await self._execute("DELETE FROM dock_holds WHERE dock_id = ?", (dock_id,)) == 1

    async def list_dock_holds(self) -> list[DockHold]:
        return await self._fetch_all(DOCK_HOLDS, "SELECT * FROM dock_holds ORDER BY dock_id")
