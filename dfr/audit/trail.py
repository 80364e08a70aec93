"""The audit trail: who did what, when, from where, and with what outcome.

Append-only and hash-chained. Each record's ``hash`` is the SHA-256 of its own fields
and the previous record's hash, so editing or deleting a record breaks the chain at
that record. The trail lives in its own SQLite file (``audit.sqlite3`` in the data
directory), apart from the operational store, with triggers that refuse UPDATE and
DELETE; anyone with the file can still rewrite it wholesale, which is what the signed
checkpoints (``dfr.audit.checkpoints``) catch.

The one removal there is: ``dfr audit prune`` (``dfr.audit.retention``) removes records
older than the retention as a whole prefix of the chain, after exporting them and after
appending (and checkpointing) an ``audit_pruned`` record naming the last one removed and
its hash. The delete trigger lets a DELETE through only for records such a record in the
chain covers; the first record left links to that hash, which is how it is verified.

Times are UTC to 1/100 s, as the audit policy asks.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dfr.audit.checkpoints import (
    CHECKPOINT_FILE,
    KEY_FILE,
    PUBLIC_KEY_FILE,
    CheckpointSigner,
    load_or_create_key,
)

TRAIL_FILE = "audit.sqlite3"
GENESIS_HASH = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE INDEX IF NOT EXISTS audit_by_action ON audit (action);
"""
PRUNE_ACTION = "audit_pruned"
# Only records an audit_pruned record in the chain covers (seq <= its through_seq) may go.
_DELETE_TRIGGER = f"""
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN OLD.seq > (
    SELECT COALESCE(MAX(json_extract(detail, '$.through_seq')), 0) FROM audit
    WHERE action = '{PRUNE_ACTION}'
)
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only (dfr audit prune removes old records)');
END
"""


def audit_time(value: datetime) -> str:
    """``2026-12-03T17:45:01.23Z``: UTC, hundredths of a second."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 10_000:02d}Z"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: str  # audit_time()
    actor: str  # a user name, an API key's id, or "automation"
    source: str  # the caller's address, "cli" or "service"
    action: str  # e.g. "sign_in", "launch", "command", "link_create", "recording_closed"
    target: str  # what it acted on, e.g. "flight:F-…", "user:alice", "" for none
    outcome: str  # "ok", "refused", "failed"
    detail: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def computed_hash(self) -> str:
        body = [
            self.seq,
            self.at,
            self.actor,
            self.source,
            self.action,
            self.target,
            self.outcome,
            dict(self.detail),
            self.prev_hash,
        ]
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "source": self.source,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "detail": dict(self.detail),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def _record(row: sqlite3.Row) -> AuditRecord:
    return AuditRecord(
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        source=row["source"],
        action=row["action"],
        target=row["target"],
        outcome=row["outcome"],
        detail=json.loads(row["detail"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def open_trail_db(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")  # a record said written survives a crash
    connection.execute("PRAGMA secure_delete=ON")  # pruned records are overwritten, not left
    connection.executescript(_SCHEMA)
    _install_delete_trigger(connection)
    return connection


def _install_delete_trigger(connection: sqlite3.Connection) -> None:
    """The prune-aware delete trigger, replacing the older one that refused every DELETE
    (a trail written before pruning existed)."""
    row = connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_no_delete'"
    ).fetchone()
    if row is not None and PRUNE_ACTION in row["sql"]:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        connection.execute(_DELETE_TRIGGER)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def read_records(connection: sqlite3.Connection) -> Iterator[AuditRecord]:
    for row in connection.execute("SELECT * FROM audit ORDER BY seq"):
        yield _record(row)


class AuditTrail:
    """Appends records to the chain and signs a checkpoint of each new head.

    Thread-safe (one lock): the service appends from its event loop through
    ``asyncio.to_thread`` and the CLI appends directly.
    """

    def __init__(self, data_dir: Path, signer: CheckpointSigner) -> None:
        self._connection = open_trail_db(data_dir / TRAIL_FILE)
        self._signer = signer
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def append(
        self,
        *,
        actor: str,
        action: str,
        outcome: str,
        source: str = "service",
        target: str = "",
        detail: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditRecord:
        with self._lock:
            head = self._connection.execute(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq, prev_hash = (head["seq"] + 1, head["hash"]) if head else (1, GENESIS_HASH)
            unsigned = AuditRecord(
                seq=seq,
                at=audit_time(at or datetime.now(UTC)),
                actor=actor,
                source=source,
                action=action,
                target=target,
                outcome=outcome,
                detail=dict(detail or {}),
                prev_hash=prev_hash,
            )
            record = replace(unsigned, hash=unsigned.computed_hash())
            self._connection.execute(
                "INSERT INTO audit (seq, at, actor, source, action, target, outcome, detail,"
                " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.seq,
                    record.at,
                    record.actor,
                    record.source,
                    record.action,
                    record.target,
                    record.outcome,
                    json.dumps(dict(record.detail), sort_keys=True, ensure_ascii=False),
                    record.prev_hash,
                    record.hash,
                ),
            )
            self._signer.sign_head(record.seq, record.hash, record.at)
            return record

    def records(self) -> list[AuditRecord]:
        with self._lock:
            return list(read_records(self._connection))

    def last_of(self, action: str) -> AuditRecord | None:
        """The newest record of ``action``, if any."""
        with self._lock:
            row = self._connection.execute(
                "SELECT * FROM audit WHERE action = ? ORDER BY seq DESC LIMIT 1", (action,)
            ).fetchone()
        return None if row is None else _record(row)

    def records_before(self, at: str) -> list[AuditRecord]:
        """The longest prefix of the chain whose records are all older than ``at`` (an
        :func:`audit_time`): the first younger record ends it, whatever follows."""
        prefix = []
        with self._lock:
            for record in read_records(self._connection):
                if record.at >= at:
                    break
                prefix.append(record)
        return prefix

    def remove_through(self, seq: int) -> int:
        """Remove every record up to ``seq``, in one transaction; the number removed. The
        trigger refuses it unless an ``audit_pruned`` record covers ``seq``."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                removed = self._connection.execute(
                    "DELETE FROM audit WHERE seq <= ?", (seq,)
                ).rowcount
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")
            self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # old pages out of the WAL
            return int(removed)


def open_audit_trail(data_dir: Path, key_file: Path | None = None) -> AuditTrail:
    """The data directory's trail, its checkpoints signed with ``key_file`` (made when
    absent; default ``DATA_DIR/audit-signing.key``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key = load_or_create_key(key_file or data_dir / KEY_FILE, data_dir / PUBLIC_KEY_FILE)
    return AuditTrail(data_dir, CheckpointSigner(data_dir / CHECKPOINT_FILE, key))
