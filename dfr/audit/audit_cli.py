"""``dfr audit verify`` and ``dfr audit export``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dfr.audit.checkpoints import PUBLIC_KEY_FILE, load_public_key
from dfr.audit.trail import TRAIL_FILE
from dfr.audit.verify import export, verify


def add_audit_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="check the audit trail, or export it for an auditor")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    check = actions.add_parser("verify", help="check the chain and its signed checkpoints")
    out = actions.add_parser("export", help="every record and checkpoint as JSON lines")
    for parser in (check, out):
        parser.add_argument("--data-dir", default="var", help="the service's data directory")
    check.add_argument(
        "--public-key",
        type=Path,
        help=f"the audit key's public half (default: DATA_DIR/{PUBLIC_KEY_FILE})",
    )
    out.add_argument("--out", type=Path, help="write here instead of standard output")


def run_audit(args: argparse.Namespace) -> int:
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
