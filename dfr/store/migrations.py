"""Schema migrations for the SQLite store, applied in order; ``PRAGMA user_version``
holds the number of the last one applied. Never edit a released migration: add one."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from dfr.errors import ConfigError
from dfr.store.sqlite.transaction import transaction

logger = logging.getLogger(__name__)

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        cad_id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        nature TEXT NOT NULL,
        priority INTEGER NOT NULL,
        lat_deg REAL NOT NULL,
        lon_deg REAL NOT NULL,
        uncertainty_m REAL,
        address TEXT NOT NULL,
        notes TEXT NOT NULL,
        received_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        status TEXT NOT NULL,
        raw TEXT NOT NULL
    );
    CREATE INDEX incidents_status ON incidents(status);

    CREATE TABLE dispatch_decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id TEXT NOT NULL REFERENCES incidents(id),
        decided_at TEXT NOT NULL,
        outcome TEXT NOT NULL,
        chosen_drone_id TEXT,
        ranking TEXT NOT NULL,
        rejections TEXT NOT NULL,
        elapsed_ms REAL NOT NULL
    );
    CREATE INDEX dispatch_decisions_incident ON dispatch_decisions(incident_id);

    CREATE TABLE flights (
        id TEXT PRIMARY KEY,
        incident_id TEXT REFERENCES incidents(id),
        drone_id TEXT NOT NULL,
        dock_id TEXT NOT NULL,
        phase TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        planned_eta_s REAL,
        route TEXT NOT NULL,
        ended_at TEXT,
        outcome TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX flights_drone ON flights(drone_id);
    CREATE INDEX flights_incident ON flights(incident_id);

    CREATE TABLE flight_phases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        flight_id TEXT NOT NULL REFERENCES flights(id),
        phase TEXT NOT NULL,
        at TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX flight_phases_flight ON flight_phases(flight_id);

    CREATE TABLE track_points (
        flight_id TEXT NOT NULL REFERENCES flights(id),
        t TEXT NOT NULL,
        lat_deg REAL NOT NULL,
        lon_deg REAL NOT NULL,
        alt_amsl_m REAL NOT NULL,
        alt_rel_m REAL NOT NULL,
        heading_deg REAL NOT NULL,
        ground_speed_mps REAL NOT NULL,
        battery_pct REAL NOT NULL,
        mode TEXT NOT NULL
    );
    CREATE INDEX track_points_flight ON track_points(flight_id, t);

    CREATE TABLE commands (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        flight_id TEXT REFERENCES flights(id),
        drone_id TEXT NOT NULL,
        type TEXT NOT NULL,
        params TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        issued_by TEXT NOT NULL,
        state TEXT NOT NULL,
        result TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX commands_flight ON commands(flight_id);

    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        drone_id TEXT NOT NULL,
        flight_id TEXT REFERENCES flights(id),
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        action TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX alerts_flight ON alerts(flight_id);
    """,
    # 2: flight video recordings
    """
    CREATE TABLE recordings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        flight_id TEXT NOT NULL REFERENCES flights(id),
        drone_id TEXT NOT NULL,
        path TEXT NOT NULL,
        duration_s REAL NOT NULL,
        size_bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        frame_count INTEGER NOT NULL,
        started_at TEXT,
        ended_at TEXT
    );
    CREATE INDEX recordings_flight ON recordings(flight_id);
    """,
    # 3: a recording's row exists from its first frame (sha256 '' and ended_at NULL until
    # it is closed); ``note`` says how it was closed when that was not the usual way
    """
    ALTER TABLE recordings ADD COLUMN note TEXT NOT NULL DEFAULT '';
    CREATE INDEX recordings_open ON recordings(ended_at) WHERE ended_at IS NULL;
    """,
    # 4: people's accounts, their failed sign-ins (for lockout) and sessions (digests only)
    """
    CREATE TABLE accounts (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        totp_secret TEXT,
        totp_last_step INTEGER,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sign_in_failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL REFERENCES accounts(username),
        at TEXT NOT NULL
    );
    CREATE INDEX sign_in_failures_user ON sign_in_failures(username, at);
    CREATE TABLE sessions (
        digest TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES accounts(username),
        role TEXT NOT NULL,
        started_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        ended_at TEXT
    );
    CREATE INDEX sessions_user ON sessions(username) WHERE ended_at IS NULL;
    """,
    # 5: API keys for machines (the secret's SHA-256 only; the key text is shown once)
    """
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        preset TEXT NOT NULL,
        digest TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT,
        last_used_at TEXT
    );
    """,
    # 6: officer viewer links (the secret's SHA-256 only; openings are in the audit trail)
    """
    CREATE TABLE viewer_links (
        id TEXT PRIMARY KEY,
        drone_id TEXT NOT NULL,
        flight_id TEXT,
        digest TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        revoked_at TEXT,
        revoked_by TEXT
    );
    """,
    # 7: the responding units the CAD reports for an incident (for the outcome metrics:
    # drone on scene before the first officer, calls cleared without an officer)
    """
    CREATE TABLE incident_units (
        incident_id TEXT NOT NULL REFERENCES incidents(id),
        unit_id TEXT NOT NULL,
        dispatched_at TEXT,
        arrived_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (incident_id, unit_id)
    );
    """,
    # 8: docks a person put on hold (one row per dock held now; who held and lifted it,
    # and why, is in the audit trail)
    """
    CREATE TABLE dock_holds (
        dock_id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        held_by TEXT NOT NULL,
        held_at TEXT NOT NULL
    );
    """,
)


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the database at ``path`` to the newest schema, one migration per transaction;
    a database newer than this dfr is refused untouched."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise ConfigError(
            f"store: {path} has schema version {version}, newer than this dfr "
            f"({len(MIGRATIONS)}); upgrade dfr or use another database file"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        with transaction(conn, immediate=False):
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
        logger.info("store: migrated %s to schema version %d", path, number)
