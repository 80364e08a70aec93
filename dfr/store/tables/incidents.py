"""Incidents and their dispatch decisions (tables ``incidents`` and
``dispatch_decisions``).

One incident per CAD id, however many service instances take the same call at once:
the insert gives way to any row it would clash with (``ON CONFLICT DO NOTHING``, with no
target: in PostgreSQL an insert of the same id and CAD id racing another would otherwise
fail on the key that is not the target) and the one stored is read back, so there is no
read-then-write to race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from dfr.errors import InvalidStateError, NotFound
from dfr.records import DispatchDecision, Incident, IncidentStatus
from dfr.store.database import Database
from dfr.store.rows import Table

INCIDENTS = Table.of("incidents", Incident)
DECISIONS = Table.of("dispatch_decisions", DispatchDecision)

INSERT_UNLESS_KNOWN = INCIDENTS.insert_sql() + " ON CONFLICT DO NOTHING"

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


class StoredIncidents(Database):
    async def insert_incident(self, incident: Incident) -> Incident:
        if await self._execute(INSERT_UNLESS_KNOWN, self._row(INCIDENTS, incident)) == 1:
            return incident
        stored = await self.get_incident_by_cad_id(incident.cad_id)
        if stored is None:  # the id clashed, not the CAD id (ids are random: never seen)
            raise InvalidStateError(
                f"incident id {incident.id} is another call's: CAD id {incident.cad_id} "
                "was not stored"
            )
        return stored

    async def update_incident(self, incident: Incident) -> None:
        if await self._execute(INCIDENT_UPDATE, self._row(INCIDENTS, incident)) != 1:
            raise NotFound(f"incident {incident.id} does not exist")

    async def get_incident(self, incident_id: str) -> Incident | None:
        return await self._fetch_one(
            INCIDENTS, "SELECT * FROM incidents WHERE id = ?", (incident_id,)
        )

    async def get_incident_by_cad_id(self, cad_id: str) -> Incident | None:
        return await self._fetch_one(
            INCIDENTS, "SELECT * FROM incidents WHERE cad_id = ?", (self.dialect.text(cad_id),)
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
        instant = self.dialect.instant
        received, since, until = instant("received_at"), instant(":start"), instant(":end")
        return await self._fetch_all(
            INCIDENTS,
            f"SELECT * FROM incidents WHERE ({since} IS NULL OR {received} >= {since})"
            f" AND ({until} IS NULL OR {received} < {until}) ORDER BY {received}, id",
            {"start": self.dialect.maybe_time(start), "end": self.dialect.maybe_time(end)},
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
            f"SELECT * FROM dispatch_decisions WHERE {self.dialect.any_of('incident_id')}"
            " ORDER BY id",
            (self.dialect.ids(incident_ids),),
        )

    async def list_decisions(self, incident_id: str) -> list[DispatchDecision]:
        return await self._fetch_all(
            DECISIONS,
            "SELECT * FROM dispatch_decisions WHERE incident_id = ? ORDER BY id",
            (incident_id,),
        )
