"""Flights and their phase changes (tables ``flights`` and ``flight_phases``).

A flight's row and its first phase are written together; so are a terminal phase, the
flight's end and its incident's new status (:class:`~dfr.records.FlightEnd`). The
incident's status changes only from ``dispatched``, decided by the ``UPDATE`` itself,
so a concurrent change of the incident is never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from dfr.errors import NotFound
from dfr.records import ACTIVE_PHASES, Flight, FlightEnd, FlightPhase, IncidentStatus, PhaseChange
from dfr.store.database import Args, Database, Write
from dfr.store.rows import Table

FLIGHTS = Table.of("flights", Flight)
PHASES = Table.of("flight_phases", PhaseChange)


class StoredFlights(Database):
    async def insert_flight(self, flight: Flight, reason: str) -> None:
        first = PhaseChange(flight.id, flight.phase, flight.created_at, reason)
        # a new flight has not ended, whatever the record says
        new = replace(flight, ended_at=None, outcome="")
        await self._write_together(
            [
                Write(FLIGHTS.insert_sql(), [self._row(FLIGHTS, new)]),
                Write(PHASES.insert_sql(), [self._row(PHASES, first)]),
            ]
        )

    async def _stored_flight(self, flight_id: str) -> Flight:
        flight = await self.get_flight(flight_id)
        if flight is None:
            raise NotFound(f"flight {flight_id} does not exist")
        return flight

    async def set_flight_phase(
        self,
        flight_id: str,
        phase: FlightPhase,
        reason: str,
        at: datetime,
        *,
        end: FlightEnd | None = None,
    ) -> Flight:
        time = self.dialect.time(at)
        writes = [
            Write(
                "UPDATE flights SET phase = ?, updated_at = ? WHERE id = ?",
                [(phase.value, time, flight_id)],
            ),
            Write(
                PHASES.insert_sql(), [self._row(PHASES, PhaseChange(flight_id, phase, at, reason))]
            ),
        ]
        if end is not None:
            writes += [
                Write(
                    "UPDATE flights SET ended_at = ?, outcome = ? WHERE id = ?",
                    [(time, end.outcome, flight_id)],
                ),
                Write(
                    "UPDATE incidents SET status = ?, updated_at = ? WHERE id = "
                    "(SELECT incident_id FROM flights WHERE id = ?) AND status = ?",
                    [(end.incident_status.value, time, flight_id, IncidentStatus.DISPATCHED.value)],
                ),
            ]
        await self._write_together(writes)
        return await self._stored_flight(flight_id)

    async def _update_flight(self, flight_id: str, sql: str, args: tuple[Any, ...]) -> Flight:
        """One ``UPDATE`` of the flight (``args`` end with its id), then the flight as stored."""
        await self._execute(sql, (*args, flight_id))
        return await self._stored_flight(flight_id)

    async def retarget_flight(
        self, flight_id: str, incident_id: str | None, route: dict[str, Any], at: datetime
    ) -> Flight:
        return await self._update_flight(
            flight_id,
            "UPDATE flights SET incident_id = ?, route = ?, updated_at = ? WHERE id = ?",
            (incident_id, self.dialect.json(route), self.dialect.time(at)),
        )

    async def end_flight(self, flight_id: str, outcome: str, at: datetime) -> Flight:
        time = self.dialect.time(at)
        return await self._update_flight(
            flight_id,
            "UPDATE flights SET ended_at = ?, outcome = ?, updated_at = ? WHERE id = ?",
            (time, outcome, time),
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
        instant = self.dialect.instant
        since, until = instant(":start"), instant(":end")

        def window(column: str) -> str:
            at = instant(column)
            return f"({since} IS NULL OR {at} >= {since}) AND ({until} IS NULL OR {at} < {until})"

        args: Args = {"start": self.dialect.maybe_time(start), "end": self.dialect.maybe_time(end)}
        return await self._fetch_all(
            FLIGHTS,
            f"SELECT * FROM flights WHERE ({window('created_at')}) OR incident_id IN"
            f" (SELECT id FROM incidents WHERE {window('received_at')})"
            f" ORDER BY {instant('created_at')}, id",
            args,
        )

    async def list_phases_of(self, flight_ids: Sequence[str]) -> list[PhaseChange]:
        return await self._fetch_all(
            PHASES,
            f"SELECT * FROM flight_phases WHERE {self.dialect.any_of('flight_id')} ORDER BY id",
            (self.dialect.ids(flight_ids),),
        )

    async def list_phases(self, flight_id: str) -> list[PhaseChange]:
        return await self._fetch_all(
            PHASES, "SELECT * FROM flight_phases WHERE flight_id = ? ORDER BY id", (flight_id,)
        )
