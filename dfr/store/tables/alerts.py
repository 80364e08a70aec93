"""Alerts (table ``alerts``): what happened to a drone or a flight, and what the system
is doing about it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dfr.records import Alert
from dfr.store.database import Database
from dfr.store.rows import Table

ALERTS = Table.of("alerts", Alert)


class StoredAlerts(Database):
    async def add_alert(
        self,
        *,
        drone_id: str,
        flight_id: str | None,
        kind: str,
        severity: str,
        message: str,
        action: str,
        at: datetime,
    ) -> Alert:
        alert = Alert(0, drone_id, flight_id, kind, severity, message, action, at)
        return replace(alert, id=await self._add(ALERTS, alert))

    async def list_alerts(self, *, flight_id: str | None = None, limit: int = 200) -> list[Alert]:
        if flight_id is None:
            return await self._fetch_all(
                ALERTS, "SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,)
            )
        return await self._fetch_all(
            ALERTS,
            "SELECT * FROM alerts WHERE flight_id = ? ORDER BY id LIMIT ?",
            (flight_id, limit),
        )
