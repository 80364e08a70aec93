"""``dfr audit verify`` and ``dfr audit export``: check the chain, hand it to an auditor.

Verification walks the chain from its first record and stops at the first broken one,
naming it: a record whose hash does not match its fields (edited), a gap in the
sequence or a wrong link to the previous hash (deleted or inserted), a checkpoint that
is unsigned or whose record now differs (rewritten), a checkpoint beyond the last
record (cut off at the end).
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dfr.audit.checkpoints import CHECKPOINT_FILE, Checkpoint, read_checkpoints
from dfr.audit.trail import GENESIS_HASH, TRAIL_FILE, AuditRecord, read_records


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    records: int  # records read before the first break (all of them when ok)
    checkpoints: int  # signed checkpoints checked
    broken_seq: int | None  # the first broken record (None when ok, or no record is named)
    reason: str  # what is wrong, or a one-line summary when ok


def _chain(records: list[AuditRecord]) -> tuple[int | None, str]:
    expected_seq, prev_hash = 1, GENESIS_HASH
    for record in records:
        if record.seq != expected_seq:
            return expected_seq, (
                f"record {expected_seq} is missing (record {record.seq} follows record"
                f" {expected_seq - 1}): deleted"
            )
        if record.prev_hash != prev_hash:
            return record.seq, f"record {record.seq} does not link to record {record.seq - 1}"
        if record.computed_hash() != record.hash:
            return record.seq, f"record {record.seq} does not match its hash: edited"
        expected_seq, prev_hash = record.seq + 1, record.hash
    return None, ""


def _checkpoints(
    records: list[AuditRecord], items: list[Checkpoint | str], key: Ed25519PublicKey
) -> tuple[int | None, str, int]:
    by_seq = {record.seq: record for record in records}
    last_seq = records[-1].seq if records else 0
    checked = 0
    for item in items:
        if isinstance(item, str):
            return None, item, checked
        if not item.signed_by(key):
            reason = (
                f"checkpoint line {item.line} (record {item.seq}) is not signed by the audit key"
            )
            return item.seq, reason, checked
        if item.seq > last_seq:
            reason = (
                f"record {item.seq} was checkpointed but the trail ends at record {last_seq}:"
                " records deleted from the end"
            )
            return last_seq + 1, reason, checked
        if by_seq[item.seq].hash != item.hash:
            reason = (
                f"record {item.seq} differs from its signed checkpoint: the chain was rewritten"
            )
            return item.seq, reason, checked
        checked += 1
    return None, "", checked


def verify(data_dir: Path, key: Ed25519PublicKey) -> Verdict:
    trail = data_dir / TRAIL_FILE
    if not trail.exists():
        return Verdict(True, 0, 0, None, f"no audit trail in {data_dir} yet")
    connection = sqlite3.connect(f"file:{trail}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        records = list(read_records(connection))
    finally:
        connection.close()
    broken, reason = _chain(records)
    if broken is not None:
        return Verdict(False, broken - 1, 0, broken, reason)
    items = list(read_checkpoints(data_dir / CHECKPOINT_FILE))
    broken, reason, checked = _checkpoints(records, items, key)
    if broken is not None or reason:
        return Verdict(False, len(records), checked, broken, reason)
    unsigned = (records[-1].seq if records else 0) - max(
        (i.seq for i in items if isinstance(i, Checkpoint)), default=0
    )
    summary = f"{len(records)} records chained, {checked} signed checkpoints hold"
    if unsigned:
        summary += f"; the last {unsigned} records have no checkpoint yet"
    return Verdict(True, len(records), checked, None, summary)


def export(data_dir: Path, out: TextIO) -> int:
    """Every record, then every checkpoint, as JSON lines; the number of records."""
    connection = sqlite3.connect(f"file:{data_dir / TRAIL_FILE}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    count = 0
    try:
        for record in read_records(connection):
            out.write(json.dumps({"record": record.to_json()}, ensure_ascii=False) + "\n")
            count += 1
    finally:
        connection.close()
    for item in read_checkpoints(data_dir / CHECKPOINT_FILE):
        body: dict[str, Any] = (
            {"unreadable": item}
            if isinstance(item, str)
            else {
                "seq": item.seq,
                "hash": item.hash,
                "at": item.at,
                "signature": base64.b64encode(item.signature).decode(),
            }
        )
        out.write(json.dumps({"checkpoint": body}) + "\n")
    return count
