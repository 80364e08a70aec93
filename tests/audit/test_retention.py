"""Audit retention: ``dfr audit prune`` removes only records older than the retention, as a
prefix of the chain, exported first and recorded; the trail still verifies afterwards and
still names an edited, deleted, re-chained or forged record (real SQLite files, the real
CLI through main())."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from dfr.audit.trail import PRUNE_ACTION, TRAIL_FILE, AuditRecord, open_audit_trail
from dfr.cli import main
from dfr.config import Settings
from tests.audit.test_trail import _tamper, _verdict

NOW = datetime.now(UTC)


def _written(data_dir: Path, *ages_days: float) -> list[AuditRecord]:
    """One record per age (days before now), in that order."""
    trail = open_audit_trail(data_dir)
    try:
        for i, age in enumerate(ages_days):
            trail.append(
                actor="alice",
                source="10.1.2.3",
                action="command",
                target=f"flight:F-{i}",
                outcome="ok",
                detail={"type": "orbit", "i": i},
                at=NOW - timedelta(days=age),
            )
        return trail.records()
    finally:
        trail.close()


def _records(data_dir: Path) -> list[AuditRecord]:
    trail = open_audit_trail(data_dir)
    try:
        return trail.records()
    finally:
        trail.close()


def _prune(data_dir: Path, out: Path, *extra: str) -> int:
    return main(["audit", "prune", "--data-dir", str(data_dir), "--out", str(out), *extra])


def test_the_retention_defaults_to_400_days_and_refuses_less_than_a_year() -> None:
    assert Settings().audit_retention_days == 400
    assert Settings(audit_retention_days=365).audit_retention_days == 365
    with pytest.raises(ValidationError) as refused:
        Settings(audit_retention_days=364)
    text = str(refused.value)
    assert "DFR_AUDIT_RETENTION_DAYS" in text and "at least 365" in text
    assert "CJIS" in text and "one year" in text


def test_the_cli_refuses_a_retention_under_a_year_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _written(tmp_path, 800, 700)
    monkeypatch.setenv("DFR_AUDIT_RETENTION_DAYS", "90")
    assert _prune(tmp_path, tmp_path / "out.jsonl") == 2
    err = capsys.readouterr().err
    assert "bad setting" in err and "DFR_AUDIT_RETENTION_DAYS" in err and "one year" in err
    assert len(_records(tmp_path)) == 2 and not (tmp_path / "out.jsonl").exists()


def test_a_prune_exports_removes_the_old_prefix_records_itself_and_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = _written(tmp_path, 600, 590, 500, 401, 399, 10)
    out = tmp_path / "pruned.jsonl"
    assert _prune(tmp_path, out, "--by", "auditor-ann") == 0
    said = capsys.readouterr().out
    assert "removed records 1 to 4 (4)" in said and "retention 400 days" in said

    left = _records(tmp_path)
    assert [r.seq for r in left] == [5, 6, 7]
    assert left[:2] == written[4:]  # the younger records, untouched
    pruned = left[-1]
    assert (pruned.action, pruned.actor, pruned.source) == (PRUNE_ACTION, "auditor-ann", "cli")
    assert pruned.detail["count"] == 4
    assert pruned.detail["first_seq"] == 1 and pruned.detail["through_seq"] == 4
    assert pruned.detail["through_hash"] == written[3].hash == left[0].prev_hash
    assert pruned.detail["retention_days"] == 400

    # nothing is lost: the export holds the removed records as written, and their checkpoints
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["record"] for line in lines if "record" in line] == [
        r.to_json() for r in written[:4]
    ]
    assert [line["checkpoint"]["seq"] for line in lines if "checkpoint" in line] == [1, 2, 3, 4]
    assert pruned.detail["export_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert pruned.detail["export_file"] == str(out)

    assert main(["audit", "verify", "--data-dir", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert "ok: 3 records chained" in said and "records 1 to 4 were pruned" in said
    verdict = _verdict(tmp_path)
    assert verdict.ok and verdict.records == 3, verdict


def test_the_prefix_ends_at_the_first_young_record(tmp_path: Path) -> None:
    _written(tmp_path, 700, 20, 650)  # a clock set wrong once: record 3 is "old" again
    assert _prune(tmp_path, tmp_path / "out.jsonl") == 0
    assert [r.seq for r in _records(tmp_path)] == [2, 3, 4]
    assert _verdict(tmp_path).ok


def test_records_younger_than_the_retention_are_never_pruned_even_if_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = _written(tmp_path, 500, 300, 10)
    out = tmp_path / "out.jsonl"
    asked = (NOW - timedelta(days=200)).strftime("%Y-%m-%d")
    assert _prune(tmp_path, out, "--before", asked) == 2
    err = capsys.readouterr().err
    assert "refused" in err and "younger than the retention of 400 days" in err
    assert "DFR_AUDIT_RETENTION_DAYS" in err
    assert _records(tmp_path) == written and not out.exists()  # nothing done, nothing written

    # an older --before is taken, and records between it and the retention stay
    assert _prune(tmp_path, out, "--before", (NOW - timedelta(days=600)).isoformat()) == 0
    assert "no record is older than" in capsys.readouterr().out
    assert len(_records(tmp_path)) == 3 and not out.exists()


def test_an_existing_export_file_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = _written(tmp_path, 500, 450)
    out = tmp_path / "earlier.jsonl"
    out.write_text("an earlier prune's records\n")
    assert _prune(tmp_path, out) == 2
    assert "exists already" in capsys.readouterr().err
    assert out.read_text() == "an earlier prune's records\n"
    assert _records(tmp_path) == written


def test_prunes_in_turn_each_anchor_the_new_start(tmp_path: Path) -> None:
    _written(tmp_path, 800, 790, 600, 590, 5)
    first_cut = (NOW - timedelta(days=700)).isoformat()
    assert _prune(tmp_path, tmp_path / "one.jsonl", "--before", first_cut) == 0
    assert [r.seq for r in _records(tmp_path)] == [3, 4, 5, 6]
    assert _prune(tmp_path, tmp_path / "two.jsonl") == 0  # the retention: 3 and 4 go too
    left = _records(tmp_path)
    assert [r.seq for r in left] == [5, 6, 7]
    assert [r.action for r in left[1:]] == [PRUNE_ACTION, PRUNE_ACTION]
    assert left[2].detail["through_seq"] == 4 and left[2].detail["first_seq"] == 3
    verdict = _verdict(tmp_path)
    assert verdict.ok and "records 1 to 4 were pruned (audit_pruned record 7" in verdict.reason


@pytest.fixture
def pruned(tmp_path: Path) -> Path:
    """A trail of seven records whose first three were pruned (record 7 says so)."""
    _written(tmp_path, 600, 550, 500, 100, 50, 10)
    assert _prune(tmp_path, tmp_path / "out.jsonl") == 0
    assert [r.seq for r in _records(tmp_path)] == [4, 5, 6, 7]
    return tmp_path


def test_after_a_prune_an_edited_record_is_named(pruned: Path) -> None:
    _tamper(pruned, "UPDATE audit SET actor = 'mallory' WHERE seq = 5")
    verdict = _verdict(pruned)
    assert not verdict.ok and verdict.broken_seq == 5 and "edited" in verdict.reason, verdict


def test_after_a_prune_the_prune_record_cannot_be_edited(pruned: Path) -> None:
    _tamper(
        pruned,
        "UPDATE audit SET detail = json_set(detail, '$.count', 1) WHERE seq = 7",
    )
    verdict = _verdict(pruned)
    assert not verdict.ok and verdict.broken_seq == 7 and "edited" in verdict.reason, verdict


def test_after_a_prune_more_deleted_from_the_start_is_named(pruned: Path) -> None:
    _tamper(pruned, "DELETE FROM audit WHERE seq = 4")
    verdict = _verdict(pruned)
    assert not verdict.ok and verdict.broken_seq == 4, verdict
    assert "records 4 to 4 are missing" in verdict.reason and "up to 3 only" in verdict.reason


def test_after_a_prune_a_deleted_record_in_the_middle_is_named(pruned: Path) -> None:
    _tamper(pruned, "DELETE FROM audit WHERE seq = 5")
    verdict = _verdict(pruned)
    assert not verdict.ok and verdict.broken_seq == 5 and "missing" in verdict.reason, verdict


def test_after_a_prune_a_re_chained_first_record_is_named(pruned: Path) -> None:
    """The first record left, linked to some other hash and its own hash recomputed."""
    connection = sqlite3.connect(pruned / TRAIL_FILE, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("DROP TRIGGER audit_no_update")
    row = connection.execute("SELECT * FROM audit WHERE seq = 4").fetchone()
    record = AuditRecord(**{**dict(row), "detail": json.loads(row["detail"])})
    record = replace(record, prev_hash="f" * 64)
    connection.execute(
        "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = 4",
        (record.prev_hash, record.computed_hash()),
    )
    connection.close()
    verdict = _verdict(pruned)
    assert not verdict.ok and verdict.broken_seq == 4, verdict
    assert "re-chained" in verdict.reason and "audit_pruned record 7" in verdict.reason


def test_a_prefix_deleted_without_a_prune_is_named(tmp_path: Path) -> None:
    _written(tmp_path, 600, 500, 10)
    _tamper(tmp_path, "DELETE FROM audit WHERE seq <= 2")
    verdict = _verdict(tmp_path)
    assert not verdict.ok and verdict.broken_seq == 1, verdict
    assert "no audit_pruned record anchors" in verdict.reason


def test_a_prune_record_forged_without_the_key_is_named(tmp_path: Path) -> None:
    """Someone with the file but not the key deletes a prefix and appends a well-chained
    audit_pruned record for it: it has no signed checkpoint."""
    written = _written(tmp_path, 50, 40, 30)
    _tamper(tmp_path, "DELETE FROM audit WHERE seq <= 2")
    forged = AuditRecord(
        seq=4,
        at=written[-1].at,
        actor="mallory",
        source="cli",
        action=PRUNE_ACTION,
        target="audit:1-2",
        outcome="ok",
        detail={"count": 2, "first_seq": 1, "through_seq": 2, "through_hash": written[1].hash},
        prev_hash=written[2].hash,
    )
    forged = replace(forged, hash=forged.computed_hash())
    connection = sqlite3.connect(tmp_path / TRAIL_FILE, isolation_level=None)
    connection.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            forged.seq,
            forged.at,
            forged.actor,
            forged.source,
            forged.action,
            forged.target,
            forged.outcome,
            json.dumps(dict(forged.detail)),
            forged.prev_hash,
            forged.hash,
        ),
    )
    connection.close()
    verdict = _verdict(tmp_path)
    assert not verdict.ok and verdict.broken_seq == 4, verdict
    assert "no signed checkpoint" in verdict.reason and "forged" in verdict.reason


def test_the_trail_still_refuses_deleting_what_no_prune_covers(pruned: Path) -> None:
    connection = sqlite3.connect(pruned / TRAIL_FILE)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM audit WHERE seq = 4")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE audit SET outcome = 'refused' WHERE seq = 5")
    connection.close()
    assert _verdict(pruned).ok


def test_a_trail_written_before_pruning_gets_the_new_delete_rule(tmp_path: Path) -> None:
    _written(tmp_path, 600, 10)
    connection = sqlite3.connect(tmp_path / TRAIL_FILE, isolation_level=None)
    connection.execute("DROP TRIGGER audit_no_delete")
    connection.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
        " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
    )
    connection.close()
    assert _prune(tmp_path, tmp_path / "out.jsonl") == 0
    assert [r.seq for r in _records(tmp_path)] == [2, 3]
    assert _verdict(tmp_path).ok
