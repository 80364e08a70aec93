"""The audit trail holds against edits, deletions, rewrites and a SIGKILL; `dfr audit`
names the first broken record."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dfr.audit.checkpoints import (
    CHECKPOINT_FILE,
    KEY_FILE,
    PUBLIC_KEY_FILE,
    CheckpointSigner,
    load_public_key,
)
from dfr.audit.trail import TRAIL_FILE, AuditRecord, audit_time, open_audit_trail
from dfr.audit.verify import Verdict, verify
from dfr.cli import main


def _fill(data_dir: Path, count: int = 5) -> list[AuditRecord]:
    trail = open_audit_trail(data_dir)
    try:
        for i in range(count):
            trail.append(
                actor="alice",
                source="10.1.2.3",
                action="command",
                target=f"flight:F-{i}",
                outcome="ok",
                detail={"type": "orbit", "radius_m": 40 + i},
            )
        return trail.records()
    finally:
        trail.close()


def _verdict(data_dir: Path) -> Verdict:
    return verify(data_dir, load_public_key(data_dir / PUBLIC_KEY_FILE))


def _tamper(data_dir: Path, *statements: str) -> None:
    """What someone with the file can do: drop the append-only triggers and write."""
    connection = sqlite3.connect(data_dir / TRAIL_FILE, isolation_level=None)
    connection.execute("DROP TRIGGER audit_no_update")
    connection.execute("DROP TRIGGER audit_no_delete")
    for statement in statements:
        connection.execute(statement)
    connection.close()


def _rewrite_from(data_dir: Path, seq: int, detail: dict[str, object]) -> None:
    """Change record ``seq`` and recompute every later hash: a consistent chain."""
    connection = sqlite3.connect(data_dir / TRAIL_FILE, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("DROP TRIGGER audit_no_update")
    prev_hash: str | None = None
    for row in connection.execute("SELECT * FROM audit ORDER BY seq").fetchall():
        record = AuditRecord(**{**dict(row), "detail": json.loads(row["detail"])})
        if record.seq < seq:
            prev_hash = record.hash
            continue
        record = replace(record, prev_hash=prev_hash or record.prev_hash)
        if record.seq == seq:
            record = replace(record, detail=detail)
        record = replace(record, hash=record.computed_hash())
        connection.execute(
            "UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (
                json.dumps(detail if record.seq == seq else dict(record.detail)),
                record.prev_hash,
                record.hash,
                record.seq,
            ),
        )
        prev_hash = record.hash
    connection.close()


def test_a_trail_as_written_verifies_and_times_are_to_the_hundredth(tmp_path: Path) -> None:
    records = _fill(tmp_path)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[1].prev_hash == records[0].hash
    verdict = _verdict(tmp_path)
    assert verdict.ok and verdict.records == 5 and verdict.checkpoints == 5, verdict
    assert audit_time(datetime(2026, 12, 3, 17, 45, 1, 239_999, tzinfo=UTC)) == (
        "2026-12-03T17:45:01.23Z"
    )


def test_the_trail_refuses_update_and_delete(tmp_path: Path) -> None:
    _fill(tmp_path, 2)
    connection = sqlite3.connect(tmp_path / TRAIL_FILE)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE audit SET outcome = 'refused' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM audit WHERE seq = 2")
    connection.close()


def test_an_edited_record_is_named(tmp_path: Path) -> None:
    _fill(tmp_path)
    _tamper(tmp_path, "UPDATE audit SET actor = 'mallory' WHERE seq = 3")
    verdict = _verdict(tmp_path)
    assert not verdict.ok
    assert verdict.broken_seq == 3 and "edited" in verdict.reason, verdict


def test_a_deleted_record_is_named(tmp_path: Path) -> None:
    _fill(tmp_path)
    _tamper(tmp_path, "DELETE FROM audit WHERE seq = 2")
    verdict = _verdict(tmp_path)
    assert verdict.broken_seq == 2 and "missing" in verdict.reason, verdict


def test_records_cut_from_the_end_are_caught_by_the_checkpoints(tmp_path: Path) -> None:
    _fill(tmp_path)
    _tamper(tmp_path, "DELETE FROM audit WHERE seq >= 4")
    verdict = _verdict(tmp_path)
    assert not verdict.ok and verdict.broken_seq == 4, verdict
    assert "deleted from the end" in verdict.reason


def test_a_chain_rewritten_without_the_key_is_caught(tmp_path: Path) -> None:
    _fill(tmp_path)
    _rewrite_from(tmp_path, 2, {"type": "return"})
    verdict = _verdict(tmp_path)
    assert not verdict.ok and verdict.broken_seq == 2, verdict
    assert "rewritten" in verdict.reason


def test_checkpoints_re_signed_with_another_key_are_caught(tmp_path: Path) -> None:
    _fill(tmp_path, 3)
    _rewrite_from(tmp_path, 1, {"type": "land"})
    (tmp_path / CHECKPOINT_FILE).unlink()
    forger = CheckpointSigner(tmp_path / CHECKPOINT_FILE, Ed25519PrivateKey.generate())
    connection = sqlite3.connect(tmp_path / TRAIL_FILE)
    for seq, head, at in connection.execute("SELECT seq, hash, at FROM audit ORDER BY seq"):
        forger.sign_head(seq, head, at)
    connection.close()
    verdict = _verdict(tmp_path)
    assert not verdict.ok and "not signed by the audit key" in verdict.reason, verdict


def test_the_cli_says_ok_or_names_the_broken_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(tmp_path)
    assert main(["audit", "verify", "--data-dir", str(tmp_path)]) == 0
    assert "ok: 5 records chained" in capsys.readouterr().out
    export_file = tmp_path / "export.jsonl"
    assert main(["audit", "export", "--data-dir", str(tmp_path), "--out", str(export_file)]) == 0
    lines = [json.loads(line) for line in export_file.read_text().splitlines()]
    assert [line["record"]["seq"] for line in lines if "record" in line] == [1, 2, 3, 4, 5]
    assert sum("checkpoint" in line for line in lines) == 5
    _tamper(tmp_path, "UPDATE audit SET outcome = 'refused' WHERE seq = 4")
    assert main(["audit", "verify", "--data-dir", str(tmp_path)]) == 1
    assert "BROKEN: record 4 does not match its hash" in capsys.readouterr().out


_CHILD = """
import sys
from pathlib import Path
from dfr.audit.trail import open_audit_trail
trail = open_audit_trail(Path(sys.argv[1]))
for i in range(100_000):
    trail.append(actor="automation", action="track", outcome="ok", detail={"i": i})
    if i == 20:
        print("writing", flush=True)
"""


def test_a_trail_killed_while_writing_still_verifies(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        stdout=subprocess.PIPE,
        env={**os.environ},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"writing"
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    verdict = _verdict(tmp_path)
    assert verdict.ok, verdict
    assert verdict.records > 20
    # a record written just before the kill may lack its checkpoint, never the reverse
    assert verdict.records - verdict.checkpoints in (0, 1)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0  # the key is the owner's only
