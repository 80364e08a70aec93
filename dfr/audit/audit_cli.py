"""``dfr audit verify``, ``dfr audit export`` and ``dfr audit prune``."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

from dfr.audit.checkpoints import PUBLIC_KEY_FILE, load_public_key
from dfr.audit.trail import TRAIL_FILE, AuditTrail, open_audit_trail
from dfr.audit.verify import export, verify


def cli_audit_trail(data_dir: Path) -> AuditTrail:
    """The trail a CLI command (``dfr user``, ``dfr key``, ``dfr audit prune``) appends
    to, signing with the key the service uses (``DFR_AUDIT_KEY_FILE``, else
    ``DATA_DIR/audit-signing.key``), so their checkpoints verify alike."""
    from dfr.config import Settings

    return open_audit_trail(data_dir, Settings(data_dir=data_dir).audit_key_file)


def _when(text: str) -> datetime:
    """An ISO 8601 date or time; UTC unless it says otherwise."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date or time (2025-01-31, 2025-01-31T12:00Z), got {text!r}"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_audit_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="check the audit trail, or export it for an auditor")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    check = actions.add_parser("verify", help="check the chain and its signed checkpoints")
    out = actions.add_parser("export", help="every record and checkpoint as JSON lines")
    prune = actions.add_parser(
        "prune",
        help="remove the records older than the retention (DFR_AUDIT_RETENTION_DAYS), "
        "exported to --out first; the prune is itself recorded",
    )
    for parser in (check, out, prune):
        parser.add_argument("--data-dir", default="var", help="the service's data directory")
    prune.add_argument(
        "--out", type=Path, required=True, help="a new file for the removed records (JSON lines)"
    )
    prune.add_argument(
        "--before",
        type=_when,
        help="remove records older than this date (UTC); at most now minus the retention "
        "(default: exactly that)",
    )
    prune.add_argument("--by", help="who prunes, for the audit trail (default: the OS user)")
    check.add_argument(
        "--public-key",
        type=Path,
        help=f"the audit key's public half (default: DATA_DIR/{PUBLIC_KEY_FILE})",
    )
    out.add_argument("--out", type=Path, help="write here instead of standard output")


def _actor(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (e.g. a container's unnamed uid)
        return "cli"


def run_prune(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from dfr.audit.retention import PruneRefused, oldest_cutoff, prune
    from dfr.config import Settings

    data_dir = Path(args.data_dir)
    try:
        settings = Settings(data_dir=data_dir)
    except ValidationError as exc:
        print(f"dfr audit prune: bad setting: {exc}", file=sys.stderr)
        return 2
    if not (data_dir / TRAIL_FILE).exists():
        print(f"dfr audit prune: no audit trail in {data_dir}", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    retention_days = settings.audit_retention_days
    before = args.before or oldest_cutoff(now, retention_days)
    trail = open_audit_trail(data_dir, settings.audit_key_file)
    try:
        done = prune(
            trail,
            data_dir,
            before=before,
            now=now,
            retention_days=retention_days,
            out=args.out,
            actor=_actor(args),
        )
    except PruneRefused as exc:
        print(f"dfr audit prune: refused: {exc}", file=sys.stderr)
        return 2
    finally:
        trail.close()
    if done is None:
        print(f"dfr audit prune: no record is older than {before:%Y-%m-%d %H:%M} UTC: none removed")
        return 0
    print(
        f"dfr audit prune: removed records {done.first_seq} to {done.through_seq}"
        f" ({done.removed}), older than {before:%Y-%m-%d %H:%M} UTC"
        f" (retention {retention_days} days)"
    )
    print(f"  exported to {done.export_file} (sha256 {done.export_sha256})")
    print(f"  recorded as audit record {done.record.seq} (audit_pruned, by {done.record.actor})")
    return 0


def run_audit(args: argparse.Namespace) -> int:
    if args.audit_command == "prune":
        return run_prune(args)
    data_dir = Path(args.data_dir)
    if args.audit_command == "export":
        if not (data_dir / TRAIL_FILE).exists():
            print(f"dfr audit export: no audit trail in {data_dir}", file=sys.stderr)
            return 2
        if args.out is None:
            count = export(data_dir, sys.stdout)
        else:
            with args.out.open("w", encoding="utf-8") as out:
                count = export(data_dir, out)
        print(f"dfr audit export: {count} records", file=sys.stderr)
        return 0
    key = load_public_key(args.public_key or data_dir / PUBLIC_KEY_FILE)
    verdict = verify(data_dir, key)
    if verdict.ok:
        print(f"dfr audit verify: ok: {verdict.reason}")
        return 0
    print(f"dfr audit verify: BROKEN: {verdict.reason}")
    return 1
