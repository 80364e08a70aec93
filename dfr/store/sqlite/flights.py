"""Flights and their phase changes in SQLite (tables ``flights`` and ``flight_phases``).

A flight's row and its first phase are written together; so are a terminal phase, the
flight's end and its incident's new status (:class:`~dfr.records.FlightEnd`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from dfr.errors import NotFound
from dfr.records import ACTIVE_PHASES, Flight, FlightEnd, FlightPhase, IncidentStatus, PhaseChange
from dfr.store.sqlite.database import Database
from dfr.store.sqlite.rows import Table, id_list
from dfr.store.sqlite.transaction import transaction

FLIGHTS = Table.of("flights", Flight)
PHASES = Table.of("flight_phases", PhaseChange)


class SqliteFlights(Database):
    async def insert_flight(self, flight: Flight, reason: str) -> None:
        first = PhaseChange(flight.id, flight.phase, flight.created_at, reason)

        def work() -> None:
            db = self._db
            with transaction(db):
                # a new flight has not ended, whatever the record says
                db.execute(
                    FLIGHTS.insert_sql(), FLIGHTS.to_row(replace(flight, ended_at=None, outcome=""))
                )
                db.execute(PHASES.insert_sql(), PHASES.to_row(first))

        await self._run(work)

    def _get_flight_sync(self, flight_id: str) -> Flight:
        row = self._db.execute("SELECT * FROM flights WHERE id = ?", (flight_id,)).fetchone()
        if row is None:
            raise NotFound(f"flight {flight_id} does not exist")
        return FLIGHTS.from_row(row)

    async def set_flight_phase(
        self,
        flight_id: str,
        phase: FlightPhase,
        reason: str,
        at: datetime,
        *,
        end: FlightEnd | None = None,
    ) -> Flight:
        change = PhaseChange(flight_id, phase, at, reason)

        def work() -> Flight:
            db = self._db
            with transaction(db):
                db.execute(
                    "UPDATE flights SET phase = ?, updated_at = ? WHERE id = ?",
                    (phase.value, at.isoformat(), flight_id),
                )
                db.execute(PHASES.insert_sql(), PHASES.to_row(change))
                if end is not None:
                    db.execute(
                        "UPDATE flights SET ended_at = ?, outcome = ? WHERE id = ?",
                        (at.isoformat(), end.outcome, flight_id),
                    )
                    db.execute(
                        "UPDATE incidents SET status = ?, updated_at = ? WHERE id = "
                        "(SELECT incident_id FROM flights WHERE id = ?) AND status = ?",
                        (
                            end.incident_status.value,
                            at.isoformat(),
                            flight_id,
                            IncidentStatus.DISPATCHED.value,
                        ),
                    )
                return self._get_flight_sync(flight_id)

        return await self._run(work)

    async def _update_flight(self, flight_id: str, sql: str, args: tuple[Any, ...]) -> Flight:
        """One ``UPDATE`` of the flight (``args`` end with its id), then the flight as stored."""

        def work() -> Flight:
            self._db.execute(sql, (*args, flight_id))
            return self._get_flight_sync(flight_id)

        return await self._run(work)

    async def retarget_flight(
        self, flight_id: str, incident_id: str | None, route: dict[str, Any], at: datetime
    ) -> Flight:
        return await self._update_flight(
            flight_id,
            "UPDATE flights SET incident_id = ?, route = ?, updated_at = ? WHERE id = ?",
            (incident_id, json.dumps(route), at.isoformat()),
        )

    async def end_flight(self, flight_id: str, outcome: str, at: datetime) -> Flight:
        return await self._update_flight(
            flight_id,
            "UPDATE flights SET ended_at = ?, outcome = ?, updated_at = ? WHERE id = ?",
            (at.isoformat(), outcome, at.isoformat()),
        )

    async def get_flight(self, flight_id: str) -> Flight | None:
        return await self._fetch_one(FLIGHTS, "SELECT * FROM flights WHERE id = ?", (flight_id,))

    async def list_flights(
        self, *, active_only: bool = False, drone_id: str | None = None, limit: int = 200
    ) -> list[Flight]:
        sql = "SELECT * FROM flights WHERE 1=1"
        args: list[Any] = []
        if active_only:
            marks = ",".join("?" for _ in ACTIVE_PHASES)
            sql += f" AND ended_at IS NULL AND phase IN ({marks})"
            args.extend(p.value for p in sorted(ACTIVE_PHASES))
        if drone_id is not None:
            sql += " AND drone_id = ?"
            args.append(drone_id)
        sql += " ORDER BY created_at DESC LIMIT ?"
        args.append(limit)
        return await self._fetch_all(FLIGHTS, sql, args)

    async def list_flights_in_window(
        self, start: datetime | None, end: datetime | None
    ) -> list[Flight]:
        window = (
            "(:start IS NULL OR julianday({0}) >= julianday(:start))"
            " AND (:end IS NULL OR julianday({0}) < julianday(:end))"
        )
        return await self._fetch_all(
            FLIGHTS,
            f"SELECT * FROM flights WHERE ({window.format('created_at')}) OR incident_id IN"
            f" (SELECT id FROM incidents WHERE {window.format('received_at')})"
            " ORDER BY julianday(created_at), id",
            {
                "start": None if start is None else start.isoformat(),
                "end": None if end is None else end.isoformat(),
            },
        )

    async def list_phases_of(self, flight_ids: Sequence[str]) -> list[PhaseChange]:
        return await self._fetch_all(
            PHASES,
            "SELECT * FROM flight_phases WHERE flight_id IN (SELECT value FROM json_each(?))"
            " ORDER BY id",
            (id_list(flight_ids),),
        )

    async def list_phases(self, flight_id: str) -> list[PhaseChange]:
        return await self._fetch_all(
            PHASES, "SELECT * FROM flight_phases WHERE flight_id = ? ORDER BY id", (flight_id,)
        )
