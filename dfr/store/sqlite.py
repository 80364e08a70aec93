"""The SQLite store: one database file, WAL journal, ``synchronous=FULL``.

All statements run on one dedicated thread holding the one connection, so the event
loop never blocks on disk and writes are serialised without locks of our own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from dfr.errors import ConfigError, NotFound
from dfr.store.migrations import MIGRATIONS
from dfr.records import (
    ACTIVE_PHASES,
    Alert,
    CommandRecord,
    CommandState,
    DispatchDecision,
    Flight,
    FlightEnd,
    FlightPhase,
    Incident,
    IncidentStatus,
    PhaseChange,
    Recording,
    TrackPoint,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _ts(value: datetime) -> str:
    return value.isoformat()


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _opt_dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _incident(row: sqlite3.Row) -> Incident:
    return Incident(
        id=row["id"],
        cad_id=row["cad_id"],
        source=row["source"],
        nature=row["nature"],
        priority=row["priority"],
        lat_deg=row["lat_deg"],
        lon_deg=row["lon_deg"],
        uncertainty_m=row["uncertainty_m"],
        address=row["address"],
        notes=row["notes"],
        received_at=_dt(row["received_at"]),
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
        status=IncidentStatus(row["status"]),
        raw=json.loads(row["raw"]),
    )


def _flight(row: sqlite3.Row) -> Flight:
    return Flight(
        id=row["id"],
        incident_id=row["incident_id"],
        drone_id=row["drone_id"],
        dock_id=row["dock_id"],
        phase=FlightPhase(row["phase"]),
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
        planned_eta_s=row["planned_eta_s"],
        route=json.loads(row["route"]),
        ended_at=_opt_dt(row["ended_at"]),
        outcome=row["outcome"],
    )


def _command(row: sqlite3.Row) -> CommandRecord:
    return CommandRecord(
        id=row["id"],
        flight_id=row["flight_id"],
        drone_id=row["drone_id"],
        type=row["type"],
        params=json.loads(row["params"]),
        issued_at=_dt(row["issued_at"]),
        issued_by=row["issued_by"],
        state=CommandState(row["state"]),
        result=row["result"],
        finished_at=_opt_dt(row["finished_at"]),
    )


def _alert(row: sqlite3.Row) -> Alert:
    return Alert(
        id=row["id"],
        drone_id=row["drone_id"],
        flight_id=row["flight_id"],
        kind=row["kind"],
        severity=row["severity"],
        message=row["message"],
        action=row["action"],
        at=_dt(row["at"]),
    )


def _decision(row: sqlite3.Row) -> DispatchDecision:
    return DispatchDecision(
        id=row["id"],
        incident_id=row["incident_id"],
        decided_at=_dt(row["decided_at"]),
        outcome=row["outcome"],
        chosen_drone_id=row["chosen_drone_id"],
        ranking=json.loads(row["ranking"]),
        rejections=json.loads(row["rejections"]),
        elapsed_ms=row["elapsed_ms"],
    )


def _recording(row: sqlite3.Row) -> Recording:
    return Recording(
        id=row["id"],
        flight_id=row["flight_id"],
        drone_id=row["drone_id"],
        path=row["path"],
        duration_s=row["duration_s"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        frame_count=row["frame_count"],
        started_at=_opt_dt(row["started_at"]),
        ended_at=_opt_dt(row["ended_at"]),
        note=row["note"],
    )


class SqliteStore:
    """:class:`dfr.store.store.Store` on a SQLite file (``:memory:`` is refused: a
    store that forgets on restart is not a store)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dfr-store")
        await self._run(self._open_sync)
        logger.info("store: %s (schema version %d)", self.path, len(MIGRATIONS))

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._run(self._close_sync)
        self._executor.shutdown(wait=True)
        self._executor = None

    async def __aenter__(self) -> SqliteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _open_sync(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"store: cannot open database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            conn.close()
            raise ConfigError(
                f"store: {self.path} has schema version {version}, newer than this dfr "
                f"({len(MIGRATIONS)}); upgrade dfr or use another database file"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            conn.execute("BEGIN")
            try:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={number}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            logger.info("store: migrated %s to schema version %d", self.path, number)
        self._conn = conn

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise RuntimeError("store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    @property
    def _db(self) -> sqlite3.Connection:
        assert self._conn is not None, "store is not open"
        return self._conn

    def _write(self, sql: str, args: tuple[Any, ...] | dict[str, Any]) -> sqlite3.Cursor:
        return self._db.execute(sql, args)

    # -- incidents ---------------------------------------------------------------------

    async def insert_incident(self, incident: Incident) -> Incident:
        def work() -> Incident:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT * FROM incidents WHERE cad_id = ?", (incident.cad_id,)
                ).fetchone()
                if row is not None:
                    db.execute("COMMIT")
                    return _incident(row)
                db.execute(
                    "INSERT INTO incidents VALUES (:id, :cad_id, :source, :nature, :priority,"
                    " :lat, :lon, :unc, :address, :notes, :received, :created, :updated,"
                    " :status, :raw)",
                    self._incident_args(incident),
                )
                db.execute("COMMIT")
                return incident
            except BaseException:
                db.execute("ROLLBACK")
                raise

        return await self._run(work)

    @staticmethod
    def _incident_args(incident: Incident) -> dict[str, Any]:
        return {
            "id": incident.id,
            "cad_id": incident.cad_id,
            "source": incident.source,
            "nature": incident.nature,
            "priority": incident.priority,
            "lat": incident.lat_deg,
            "lon": incident.lon_deg,
            "unc": incident.uncertainty_m,
            "address": incident.address,
            "notes": incident.notes,
            "received": _ts(incident.received_at),
            "created": _ts(incident.created_at),
            "updated": _ts(incident.updated_at),
            "status": incident.status.value,
            "raw": json.dumps(incident.raw),
        }

    async def update_incident(self, incident: Incident) -> None:
        def work() -> None:
            cur = self._write(
                "UPDATE incidents SET nature=:nature, priority=:priority, lat_deg=:lat,"
                " lon_deg=:lon, uncertainty_m=:unc, address=:address, notes=:notes,"
                " updated_at=:updated, status=:status, raw=:raw WHERE id=:id",
                self._incident_args(incident),
            )
            if cur.rowcount != 1:
                raise NotFound(f"incident {incident.id} does not exist")

        await self._run(work)

    async def get_incident(self, incident_id: str) -> Incident | None:
        def work() -> Incident | None:
            row = self._db.execute(
                "SELECT * FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
            return None if row is None else _incident(row)

        return await self._run(work)

    async def get_incident_by_cad_id(self, cad_id: str) -> Incident | None:
        def work() -> Incident | None:
            row = self._db.execute("SELECT * FROM incidents WHERE cad_id = ?", (cad_id,)).fetchone()
            return None if row is None else _incident(row)

        return await self._run(work)

    async def list_incidents(
        self, *, status: IncidentStatus | None = None, limit: int = 200
    ) -> list[Incident]:
        def work() -> list[Incident]:
            if status is None:
                rows = self._db.execute(
                    "SELECT * FROM incidents ORDER BY created_at DESC LIMIT ?", (limit,)
                )
            else:
                rows = self._db.execute(
                    "SELECT * FROM incidents WHERE status = ? ORDER BY created_at LIMIT ?",
                    (status.value, limit),
                )
            return [_incident(r) for r in rows]

        return await self._run(work)

    # -- dispatch ----------------------------------------------------------------------

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
        def work() -> DispatchDecision:
            cur = self._write(
                "INSERT INTO dispatch_decisions (incident_id, decided_at, outcome,"
                " chosen_drone_id, ranking, rejections, elapsed_ms) VALUES (?,?,?,?,?,?,?)",
                (
                    incident_id,
                    _ts(decided_at),
                    outcome,
                    chosen_drone_id,
                    json.dumps(ranking),
                    json.dumps(rejections),
                    elapsed_ms,
                ),
            )
            assert cur.lastrowid is not None
            return DispatchDecision(
                id=cur.lastrowid,
                incident_id=incident_id,
                decided_at=decided_at,
                outcome=outcome,
                chosen_drone_id=chosen_drone_id,
                ranking=ranking,
                rejections=rejections,
                elapsed_ms=elapsed_ms,
            )

        return await self._run(work)

    async def list_decisions(self, incident_id: str) -> list[DispatchDecision]:
        def work() -> list[DispatchDecision]:
            rows = self._db.execute(
                "SELECT * FROM dispatch_decisions WHERE incident_id = ? ORDER BY id",
                (incident_id,),
            )
            return [_decision(r) for r in rows]

        return await self._run(work)

    # -- flights -----------------------------------------------------------------------

    async def insert_flight(self, flight: Flight, reason: str) -> None:
        def work() -> None:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT INTO flights VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        flight.id,
                        flight.incident_id,
                        flight.drone_id,
                        flight.dock_id,
                        flight.phase.value,
                        _ts(flight.created_at),
                        _ts(flight.updated_at),
                        flight.planned_eta_s,
                        json.dumps(flight.route),
                        None,
                        "",
                    ),
                )
                db.execute(
                    "INSERT INTO flight_phases (flight_id, phase, at, reason) VALUES (?,?,?,?)",
                    (flight.id, flight.phase.value, _ts(flight.created_at), reason),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        await self._run(work)

    def _get_flight_sync(self, flight_id: str) -> Flight:
        row = self._db.execute("SELECT * FROM flights WHERE id = ?", (flight_id,)).fetchone()
        if row is None:
            raise NotFound(f"flight {flight_id} does not exist")
        return _flight(row)

    async def set_flight_phase(
        self,
        flight_id: str,
        phase: FlightPhase,
        reason: str,
        at: datetime,
        *,
        end: FlightEnd | None = None,
    ) -> Flight:
        def work() -> Flight:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "UPDATE flights SET phase = ?, updated_at = ? WHERE id = ?",
                    (phase.value, _ts(at), flight_id),
                )
                db.execute(
                    "INSERT INTO flight_phases (flight_id, phase, at, reason) VALUES (?,?,?,?)",
                    (flight_id, phase.value, _ts(at), reason),
                )
                if end is not None:
                    db.execute(
                        "UPDATE flights SET ended_at = ?, outcome = ? WHERE id = ?",
                        (_ts(at), end.outcome, flight_id),
                    )
                    db.execute(
                        "UPDATE incidents SET status = ?, updated_at = ? WHERE id = "
                        "(SELECT incident_id FROM flights WHERE id = ?) AND status = ?",
                        (end.incident_status.value, _ts(at), flight_id, "dispatched"),
                    )
                flight = self._get_flight_sync(flight_id)
                db.execute("COMMIT")
                return flight
            except BaseException:
                db.execute("ROLLBACK")
                raise

        return await self._run(work)

    async def retarget_flight(
        self, flight_id: str, incident_id: str | None, route: dict[str, Any], at: datetime
    ) -> Flight:
        def work() -> Flight:
            self._write(
                "UPDATE flights SET incident_id = ?, route = ?, updated_at = ? WHERE id = ?",
                (incident_id, json.dumps(route), _ts(at), flight_id),
            )
            return self._get_flight_sync(flight_id)

        return await self._run(work)

    async def end_flight(self, flight_id: str, outcome: str, at: datetime) -> Flight:
        def work() -> Flight:
            self._write(
                "UPDATE flights SET ended_at = ?, outcome = ?, updated_at = ? WHERE id = ?",
                (_ts(at), outcome, _ts(at), flight_id),
            )
            return self._get_flight_sync(flight_id)

        return await self._run(work)

    async def get_flight(self, flight_id: str) -> Flight | None:
        def work() -> Flight | None:
            row = self._db.execute("SELECT * FROM flights WHERE id = ?", (flight_id,)).fetchone()
            return None if row is None else _flight(row)

        return await self._run(work)

    async def list_flights(
        self, *, active_only: bool = False, drone_id: str | None = None, limit: int = 200
    ) -> list[Flight]:
        def work() -> list[Flight]:
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
            return [_flight(r) for r in self._db.execute(sql, args)]

        return await self._run(work)

    async def list_phases(self, flight_id: str) -> list[PhaseChange]:
        def work() -> list[PhaseChange]:
            rows = self._db.execute(
                "SELECT * FROM flight_phases WHERE flight_id = ? ORDER BY id", (flight_id,)
            )
            return [
                PhaseChange(r["flight_id"], FlightPhase(r["phase"]), _dt(r["at"]), r["reason"])
                for r in rows
            ]

        return await self._run(work)

    async def add_track_points(self, points: list[TrackPoint]) -> None:
        if not points:
            return

        def work() -> None:
            db = self._db
            db.execute("BEGIN")
            try:
                db.executemany(
                    "INSERT INTO track_points VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            p.flight_id,
                            _ts(p.t),
                            p.lat_deg,
                            p.lon_deg,
                            p.alt_amsl_m,
                            p.alt_rel_m,
                            p.heading_deg,
                            p.ground_speed_mps,
                            p.battery_pct,
                            p.mode,
                        )
                        for p in points
                    ],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        await self._run(work)

    async def list_track(self, flight_id: str) -> list[TrackPoint]:
        def work() -> list[TrackPoint]:
            rows = self._db.execute(
                "SELECT * FROM track_points WHERE flight_id = ? ORDER BY t", (flight_id,)
            )
            return [
                TrackPoint(
                    flight_id=r["flight_id"],
                    t=_dt(r["t"]),
                    lat_deg=r["lat_deg"],
                    lon_deg=r["lon_deg"],
                    alt_amsl_m=r["alt_amsl_m"],
                    alt_rel_m=r["alt_rel_m"],
                    heading_deg=r["heading_deg"],
                    ground_speed_mps=r["ground_speed_mps"],
                    battery_pct=r["battery_pct"],
                    mode=r["mode"],
                )
                for r in rows
            ]

        return await self._run(work)

    # -- commands ----------------------------------------------------------------------

    async def add_command(
        self,
        *,
        flight_id: str | None,
        drone_id: str,
        type: str,
        params: dict[str, Any],
        issued_by: str,
        issued_at: datetime,
    ) -> CommandRecord:
        def work() -> CommandRecord:
            cur = self._write(
                "INSERT INTO commands (flight_id, drone_id, type, params, issued_at, issued_by,"
                " state, result, finished_at) VALUES (?,?,?,?,?,?,?,?,NULL)",
                (
                    flight_id,
                    drone_id,
                    type,
                    json.dumps(params),
                    _ts(issued_at),
                    issued_by,
                    CommandState.PENDING.value,
                    "",
                ),
            )
            assert cur.lastrowid is not None
            return CommandRecord(
                id=cur.lastrowid,
                flight_id=flight_id,
                drone_id=drone_id,
                type=type,
                params=params,
                issued_at=issued_at,
                issued_by=issued_by,
                state=CommandState.PENDING,
                result="",
                finished_at=None,
            )

        return await self._run(work)

    async def finish_command(
        self, command_id: int, state: CommandState, result: str, at: datetime
    ) -> None:
        def work() -> None:
            self._write(
                "UPDATE commands SET state = ?, result = ?, finished_at = ? WHERE id = ?",
                (state.value, result, _ts(at), command_id),
            )

        await self._run(work)

    async def list_commands(
        self, *, flight_id: str | None = None, state: CommandState | None = None
    ) -> list[CommandRecord]:
        def work() -> list[CommandRecord]:
            sql = "SELECT * FROM commands WHERE 1=1"
            args: list[Any] = []
            if flight_id is not None:
                sql += " AND flight_id = ?"
                args.append(flight_id)
            if state is not None:
                sql += " AND state = ?"
                args.append(state.value)
            sql += " ORDER BY id"
            return [_command(r) for r in self._db.execute(sql, args)]

        return await self._run(work)

    # -- alerts ------------------------------------------------------------------------

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
        def work() -> Alert:
            cur = self._write(
                "INSERT INTO alerts (drone_id, flight_id, kind, severity, message, action, at)"
                " VALUES (?,?,?,?,?,?,?)",
                (drone_id, flight_id, kind, severity, message, action, _ts(at)),
            )
            assert cur.lastrowid is not None
            return Alert(cur.lastrowid, drone_id, flight_id, kind, severity, message, action, at)

        return await self._run(work)

    async def list_alerts(self, *, flight_id: str | None = None, limit: int = 200) -> list[Alert]:
        def work() -> list[Alert]:
            if flight_id is None:
                rows = self._db.execute("SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
            else:
                rows = self._db.execute(
                    "SELECT * FROM alerts WHERE flight_id = ? ORDER BY id LIMIT ?",
                    (flight_id, limit),
                )
            return [_alert(r) for r in rows]

        return await self._run(work)

    # -- recordings --------------------------------------------------------------------

    async def add_recording(self, recording: Recording) -> Recording:
        def work() -> Recording:
            cur = self._write(
                "INSERT INTO recordings (flight_id, drone_id, path, duration_s, size_bytes, sha256,"
                " frame_count, started_at, ended_at, note) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    recording.flight_id,
                    recording.drone_id,
                    recording.path,
                    recording.duration_s,
                    recording.size_bytes,
                    recording.sha256,
                    recording.frame_count,
                    _ts(recording.started_at) if recording.started_at else None,
                    _ts(recording.ended_at) if recording.ended_at else None,
                    recording.note,
                ),
            )
            assert cur.lastrowid is not None
            return replace(recording, id=cur.lastrowid)

        return await self._run(work)

    async def update_recording(self, recording: Recording) -> None:
        def work() -> None:
            cur = self._write(
                "UPDATE recordings SET duration_s = ?, size_bytes = ?, sha256 = ?,"
                " frame_count = ?, started_at = ?, ended_at = ?, note = ? WHERE id = ?",
                (
                    recording.duration_s,
                    recording.size_bytes,
                    recording.sha256,
                    recording.frame_count,
                    _ts(recording.started_at) if recording.started_at else None,
                    _ts(recording.ended_at) if recording.ended_at else None,
                    recording.note,
                    recording.id,
                ),
            )
            if cur.rowcount != 1:
                raise NotFound(f"recording {recording.id} does not exist")

        await self._run(work)

    async def list_recordings(self, flight_id: str) -> list[Recording]:
        def work() -> list[Recording]:
            rows = self._db.execute(
                "SELECT * FROM recordings WHERE flight_id = ? ORDER BY id", (flight_id,)
            )
            return [_recording(r) for r in rows]

        return await self._run(work)

    async def list_open_recordings(self) -> list[Recording]:
        def work() -> list[Recording]:
            rows = self._db.execute("SELECT * FROM recordings WHERE ended_at IS NULL ORDER BY id")
            return [_recording(r) for r in rows]

        return await self._run(work)
