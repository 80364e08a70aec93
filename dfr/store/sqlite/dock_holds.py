"""Docks on hold in SQLite (table ``dock_holds``, one row per dock held now):
the store side of :class:`dfr.dispatch.dock_holds.DockHolds`."""

from __future__ import annotations

from dfr.records import DockHold
from dfr.store.sqlite.database import Database
from dfr.store.sqlite.rows import Table

DOCK_HOLDS = Table.of("dock_holds", DockHold)
INSERT = DOCK_HOLDS.insert_sql() + " ON CONFLICT (dock_id) DO NOTHING"


class SqliteDockHolds(Database):
    async def insert_dock_hold(self, hold: DockHold) -> bool:
        cursor = await self._execute(INSERT, DOCK_HOLDS.to_row(hold))
        return cursor.rowcount == 1

    async def delete_dock_hold(self, dock_id: str) -> bool:
        cursor = await self._execute("DELETE FROM dock_holds WHERE dock_id = ?", (dock_id,))
        return cursor.rowcount == 1

    async def list_dock_holds(self) -> list[DockHold]:
        return await self._fetch_all(DOCK_HOLDS, "SELECT * FROM dock_holds ORDER BY dock_id")
