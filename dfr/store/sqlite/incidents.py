"""Incidents and their dispatch decisions in SQLite (tables ``incidents`` and
``dispatch_decisions``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from dfr.errors import NotFound
from dfr.records import DispatchDecision, Incident, IncidentStatus
from dfr.store.sqlite.database import Database
from dfr.store.sqlite.rows import Table, id_list
from dfr.store.sqlite.transaction import transaction

INCIDENTS = Table.of("incidents", Incident)
DECISIONS = Table.of("dispatch_decisions", DispatchDecision)

# what an update may change: never the id, the CAD id, the source or when it came in
INCIDENT_UPDATE = INCIDENTS.update_sql(
    (
        "nature",
        "priority",
        "lat_deg",
        "lon_deg",
        "uncertainty_m",
        "address",
        "notes",
        "updated_at",
        "status",
        "raw",
    )
)


class SqliteIncidents(Database):
    async def insert_incident(self, incident: Incident) -> Incident:
        def work() -> Incident:
            db = self._db
            with transaction(db):
                row = db.execute(
                    "SELECT * FROM incidents WHERE cad_id = ?", (incident.cad_id,)
                ).fetchone()
                if row is not None:
                    return INCIDENTS.from_row(row)
                db.execute(INCIDENTS.insert_sql(), INCIDENTS.to_row(incident))
                return incident

        return await self._run(work)

    async def update_incident(self, incident: Incident) -> None:
        cursor = await self._execute(INCIDENT_UPDATE, INCIDENTS.to_row(incident))
        if cursor.rowcount != 1:
            raise NotFound(f"incident {incident.id} does not exist")

    async def get_incident(self, incident_id: str) -> Incident | None:
        return await self._fetch_one(
            INCIDENTS, "SELECT * FROM incidents WHERE id = ?", (incident_id,)
        )

    async def get_incident_by_cad_id(self, cad_id: str) -> Incident | None:
        return await self._fetch_one(
            INCIDENTS, "SELECT * FROM incidents WHERE cad_id = ?", (cad_id,)
        )

    async def list_incidents(
        self, *, status: IncidentStatus | None = None, limit: int = 200
    ) -> list[Incident]:
        if status is None:
            return await self._fetch_all(
                INCIDENTS, "SELECT * FROM incidents ORDER BY created_at DESC LIMIT ?", (limit,)
            )
        return await self._fetch_all(
            INCIDENTS,
            "SELECT * FROM incidents WHERE status = ? ORDER BY created_at LIMIT ?",
            (status.value, limit),
        )

    async def list_incidents_received(
        self, start: datetime | None, end: datetime | None
    ) -> list[Incident]:
        # julianday(): the stored text may carry any offset (and fractions of a second)
        return await self._fetch_all(
            INCIDENTS,
            "SELECT * FROM incidents WHERE (:start IS NULL OR julianday(received_at) >="
            " julianday(:start)) AND (:end IS NULL OR julianday(received_at) < julianday(:end))"
            " ORDER BY julianday(received_at), id",
            {"start": _iso(start), "end": _iso(end)},
        )

    # -- dispatch decisions ------------------------------------------------------------

    async def add_decision(
        self,
        incident_id: str,
        *,
        outcome: str,
        chosen_drone_id: str | None,
        ranking: list[dict[str, Any]],
        rejections: list[dict[str, Any]],
        elapsed_ms: float,
        decided_at: datetime,
    ) -> DispatchDecision:
        decision = DispatchDecision(
            id=0,  # given by the database
            incident_id=incident_id,
            decided_at=decided_at,
            outcome=outcome,
            chosen_drone_id=chosen_drone_id,
            ranking=ranking,
            rejections=rejections,
            elapsed_ms=elapsed_ms,
        )
        return replace(decision, id=await self._add(DECISIONS, decision))

    async def list_decisions_of(self, incident_ids: Sequence[str]) -> list[DispatchDecision]:
        return await self._fetch_all(
            DECISIONS,
            "SELECT * FROM dispatch_decisions"
            " WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (id_list(incident_ids),),
        )

    async def list_decisions(self, incident_id: str) -> list[DispatchDecision]:
        return await self._fetch_all(
            DECISIONS,
            "SELECT * FROM dispatch_decisions WHERE incident_id = ? ORDER BY id",
            (incident_id,),
        )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
