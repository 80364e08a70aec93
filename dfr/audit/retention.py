"""Audit retention: records older than the retention leave the trail only by ``dfr audit
prune``, as a whole prefix of the chain, and never silently.

A prune, in this order (a crash between steps leaves a trail that still verifies):

1. takes the longest prefix of the chain whose records are all older than the cutoff
   (``--before``, at most now minus ``DFR_AUDIT_RETENTION_DAYS``; a younger cutoff is
   refused, whoever asks);
2. writes those records and their signed checkpoints to a new export file (JSON lines,
   as ``dfr audit export`` writes them) and syncs it to disk;
3. appends an ``audit_pruned`` record — who, how many, the first and last sequence
   numbers removed, the last one's hash, the export file and its SHA-256 — which is
   checkpointed (signed) like every record;
4. removes the prefix in one transaction.

Verification then starts from the first record left: its ``prev_hash`` must be the
``through_hash`` of the ``audit_pruned`` record naming the record before it, and that
record must be covered by a signed checkpoint (so it cannot be forged by someone without
the key). Records removed any other way still show as deleted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dfr.audit.checkpoints import CHECKPOINT_FILE, Checkpoint, read_checkpoints
from dfr.audit.trail import PRUNE_ACTION, AuditRecord, AuditTrail, audit_time
from dfr.config import AUDIT_RETENTION_MIN_DAYS
from dfr.errors import DfrError


class PruneRefused(DfrError):
    """A prune that cannot be done as asked (it says what to change)."""


@dataclass(frozen=True, slots=True)
class Pruned:
    removed: int
    first_seq: int
    through_seq: int
    through_hash: str
    export_file: Path
    export_sha256: str
    record: AuditRecord  # the audit_pruned record that anchors the trail's new start


def oldest_cutoff(now: datetime, retention_days: int) -> datetime:
    """The latest ``--before`` a prune may use: records younger than this are kept."""
    return now - timedelta(days=retention_days)


def _checkpoint_line(item: Checkpoint) -> str:
    body = {
        "seq": item.seq,
        "hash": item.hash,
        "at": item.at,
        "signature": base64.b64encode(item.signature).decode(),
    }
    return json.dumps({"checkpoint": body})


def _write_export(
    out: Path, records: list[AuditRecord], checkpoints: list[Checkpoint]
) -> tuple[str, int]:
    """The removed records (then their checkpoints) in a new file, synced; its SHA-256."""
    digest = hashlib.sha256()
    try:
        stream = out.open("x", encoding="utf-8")
    except FileExistsError as exc:
        raise PruneRefused(
            f"{out} exists already: a prune writes a new export file (choose another --out)"
        ) from exc
    except OSError as exc:
        raise PruneRefused(f"{out}: cannot write the export file: {exc.strerror or exc}") from exc
    with stream:
        lines = [json.dumps({"record": r.to_json()}, ensure_ascii=False) for r in records]
        lines += [_checkpoint_line(c) for c in checkpoints]
        for line in lines:
            text = line + "\n"
            stream.write(text)
            digest.update(text.encode())
        stream.flush()
        os.fsync(stream.fileno())
    return digest.hexdigest(), len(lines)


def prune(
    trail: AuditTrail,
    data_dir: Path,
    *,
    before: datetime,
    now: datetime,
    retention_days: int,
    out: Path,
    actor: str,
    source: str = "cli",
) -> Pruned | None:
    """Remove the records older than ``before`` (a prefix of the chain), exported to
    ``out`` first and the prune recorded; None when no record is that old."""
    if retention_days < AUDIT_RETENTION_MIN_DAYS:
        raise PruneRefused(
            f"a retention of {retention_days} days is under the {AUDIT_RETENTION_MIN_DAYS} "
            "days the CJIS Security Policy (5.4.7) asks audit records to be kept"
        )
    before = before if before.tzinfo else before.replace(tzinfo=UTC)
    latest = oldest_cutoff(now, retention_days)
    if before > latest:
        raise PruneRefused(
            f"records from {before:%Y-%m-%d %H:%M} UTC on are younger than the retention of "
            f"{retention_days} days (DFR_AUDIT_RETENTION_DAYS) and are kept: --before may be "
            f"{latest:%Y-%m-%d %H:%M} UTC at the latest"
        )
    cutoff = audit_time(before)
    records = trail.records_before(cutoff)
    if not records:
        return None
    first, last = records[0], records[-1]
    checkpoints = [
        item
        for item in read_checkpoints(data_dir / CHECKPOINT_FILE)
        if isinstance(item, Checkpoint) and first.seq <= item.seq <= last.seq
    ]
    export_sha256, _ = _write_export(out, records, checkpoints)
    record = trail.append(
        actor=actor,
        source=source,
        action=PRUNE_ACTION,
        target=f"audit:{first.seq}-{last.seq}",
        outcome="ok",
        detail={
            "count": len(records),
            "first_seq": first.seq,
            "through_seq": last.seq,
            "through_hash": last.hash,
            "through_at": last.at,
            "before": cutoff,
            "retention_days": retention_days,
            "export_file": str(out),
            "export_sha256": export_sha256,
        },
        at=now,
    )
    removed = trail.remove_through(last.seq)
    return Pruned(removed, first.seq, last.seq, last.hash, out, export_sha256, record)
