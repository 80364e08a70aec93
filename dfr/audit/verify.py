"""``dfr audit verify`` and ``dfr audit export``: check the chain, hand it to an auditor.

Verification walks the chain from its first record and stops at the first broken one,
naming it: a record whose hash does not match its fields (edited), a gap in the
sequence or a wrong link to the previous hash (deleted or inserted), a checkpoint that
is unsigned or whose record now differs (rewritten), a checkpoint beyond the last
record (cut off at the end).

A trail whose oldest records were pruned (``dfr.audit.retention``) starts later than
record 1: its first record must link to the ``through_hash`` of the ``audit_pruned``
record that names the record before it, and that record must be covered by a signed
checkpoint. A prefix removed without one, or more than a prune removed, is named as
deleted; checkpoints of pruned records are still checked for their signatures.
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
from dfr.audit.trail import GENESIS_HASH, PRUNE_ACTION, TRAIL_FILE, AuditRecord, read_records


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    records: int  # records read before the first break (all of them when ok)
    checkpoints: int  # signed checkpoints checked
    broken_seq: int | None  # the first broken record (None when ok, or no record is named)
    reason: str  # what is wrong, or a one-line summary when ok


def _anchor(records: list[AuditRecord]) -> AuditRecord | None:
    """The ``audit_pruned`` record naming the record before the first one left (the
    latest such), or None."""
    before_first = records[0].seq - 1
    for record in reversed(records):
        if record.action == PRUNE_ACTION and record.detail.get("through_seq") == before_first:
            return record
    return None


def _unanchored(records: list[AuditRecord]) -> tuple[int, str]:
    """Why a trail starting after record 1 is not explained by a prune."""
    first = records[0].seq
    prunes = [r for r in records if r.action == PRUNE_ACTION]
    through = max((int(r.detail.get("through_seq", 0)) for r in prunes), default=0)
    if through == 0 or through >= first:
        return 1, (
            f"records 1 to {first - 1} are missing and no audit_pruned record anchors the"
            f" trail's start at record {first}: deleted"
        )
    return through + 1, (
        f"records {through + 1} to {first - 1} are missing: the last prune removed records up"
        f" to {through} only: deleted"
    )


def _chain(records: list[AuditRecord]) -> tuple[int | None, str, AuditRecord | None]:
    """The first broken record and why (None, ""), and the prune record anchoring the
    start (None when the trail starts at record 1)."""
    if not records:
        return None, "", None
    anchor = None
    expected_seq, prev_hash = 1, GENESIS_HASH
    if records[0].seq != 1:
        anchor = _anchor(records)
        if anchor is None:
            broken, reason = _unanchored(records)
            return broken, reason, None
        expected_seq, prev_hash = records[0].seq, str(anchor.detail.get("through_hash"))
    for record in records:
        if record.seq != expected_seq:
            return (
                expected_seq,
                (
                    f"record {expected_seq} is missing (record {record.seq} follows record"
                    f" {expected_seq - 1}): deleted"
                ),
                anchor,
            )
        if record.prev_hash != prev_hash:
            if anchor is not None and record.seq == records[0].seq:
                reason = (
                    f"record {record.seq} does not link to the last pruned record"
                    f" ({record.seq - 1}) that audit_pruned record {anchor.seq} names:"
                    " re-chained"
                )
            else:
                reason = f"record {record.seq} does not link to record {record.seq - 1}"
            return record.seq, reason, anchor
        if record.computed_hash() != record.hash:
            return record.seq, f"record {record.seq} does not match its hash: edited", anchor
        expected_seq, prev_hash = record.seq + 1, record.hash
    return None, "", anchor


def _checkpoints(
    records: list[AuditRecord],
    items: list[Checkpoint | str],
    key: Ed25519PublicKey,
    anchor: AuditRecord | None,
) -> tuple[int | None, str, int]:
    by_seq = {record.seq: record for record in records}
    first_seq = records[0].seq if records else 1
    last_seq = records[-1].seq if records else 0
    checked = 0
    covered_seq = 0  # the newest record a matching checkpoint covers
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
        if item.seq < first_seq:  # a pruned record: its hash is the anchor's, if the last
            last_pruned = anchor is not None and item.seq == first_seq - 1
            if (
                last_pruned
                and anchor is not None
                and item.hash != anchor.detail.get("through_hash")
            ):
                reason = (
                    f"audit_pruned record {anchor.seq} names a hash for record {item.seq}"
                    " that differs from its signed checkpoint: the chain was rewritten"
                )
                return anchor.seq, reason, checked
            checked += 1
            continue
        if by_seq[item.seq].hash != item.hash:
            reason = (
                f"record {item.seq} differs from its signed checkpoint: the chain was rewritten"
            )
            return item.seq, reason, checked
        checked += 1
        covered_seq = max(covered_seq, item.seq)
    if anchor is not None and covered_seq < anchor.seq:
        reason = (
            f"audit_pruned record {anchor.seq}, which anchors the trail's start at record"
            f" {first_seq}, has no signed checkpoint: a prune is checkpointed before it removes"
            " anything, so this one may be forged"
        )
        return anchor.seq, reason, checked
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
    broken, reason, anchor = _chain(records)
    if broken is not None:
        read = sum(1 for record in records if record.seq < broken)
        return Verdict(False, read, 0, broken, reason)
    items = list(read_checkpoints(data_dir / CHECKPOINT_FILE))
    broken, reason, checked = _checkpoints(records, items, key, anchor)
    if broken is not None or reason:
        return Verdict(False, len(records), checked, broken, reason)
    unsigned = (records[-1].seq if records else 0) - max(
        (i.seq for i in items if isinstance(i, Checkpoint)), default=0
    )
    summary = f"{len(records)} records chained, {checked} signed checkpoints hold"
    if anchor is not None:
        summary += (
            f"; records 1 to {records[0].seq - 1} were pruned (audit_pruned record"
            f" {anchor.seq}, by {anchor.actor} at {anchor.at})"
        )
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
