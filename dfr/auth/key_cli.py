"""``dfr key add|list|revoke``: API keys for machines (CAD connector, monitor, test rig).

Works on the service's store directly, as ``dfr user`` does (the SQLite file in
``--data-dir``, or PostgreSQL where ``DFR_DATABASE_URL`` is set; the service may be
running, and a revoked key is refused from its next request). The key text is printed
once, by ``add``, and never again; ``list`` shows no secret. Every change goes into the
audit trail, done by ``--by`` (default: the OS user).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dfr.audit.audit_cli import cli_audit_trail
from dfr.auth.api_keys import (
    DEFAULT_LIFETIME,
    MAX_LIFETIME,
    ApiKey,
    ApiKeyError,
    ApiKeys,
    KeyPreset,
    shown_time,
)
from dfr.config import command_settings
from dfr.store.backend import open_store


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}") from exc
    if not 1 <= days <= MAX_LIFETIME.days:
        raise argparse.ArgumentTypeError(f"1 to {MAX_LIFETIME.days} days, got {days}")
    return days


def add_key_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    key = sub.add_parser("key", help="manage API keys for machines (CAD connector, monitor, rig)")
    actions = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="a new key; prints it once")
    add.add_argument("name", help="what the key is for, e.g. cad (requests are key:NAME)")
    add.add_argument(
        "--preset",
        choices=[preset.value for preset in KeyPreset],
        required=True,
        help="intake: post calls only (CAD); monitor: read only; rig: a supervisor's reach (a test rig)",
    )
    add.add_argument(
        "--days",
        type=_days,
        default=DEFAULT_LIFETIME.days,
        help=f"valid for this many days (default {DEFAULT_LIFETIME.days}, "
        f"at most {MAX_LIFETIME.days})",
    )
    actions.add_parser("list", help="every key: preset, dates, last use (never the secret)")
    actions.add_parser("revoke", help="refuse the key from now on").add_argument("id")
    for parser in actions.choices.values():
        parser.add_argument("--data-dir", default="var", help="the service's data directory")
        parser.add_argument("--by", help="who does this, for the audit trail (default: OS user)")


def _actor(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (e.g. a container's unnamed uid)
        return "cli"


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _print_list(keys: list[ApiKey]) -> None:
    print(
        f"{'id':12} {'name':16} {'preset':8} {'created':16} {'expires':16} {'revoked':16} last used"
    )
    for key in keys:
        print(
            f"{key.id:12} {key.name:16} {key.preset:8} {_when(key.created_at):16} "
            f"{_when(key.expires_at):16} {_when(key.revoked_at):16} {_when(key.last_used_at)}"
        )


async def _run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    now = datetime.now(UTC)
    actor = _actor(args)
    async with open_store(command_settings(data_dir=data_dir)) as store:
        keys = ApiKeys(store)
        command = args.key_command
        if command == "list":
            _print_list(await keys.listed())
            return 0
        if command == "add":
            text, key = await keys.create(
                args.name, KeyPreset(args.preset), actor, now, timedelta(days=args.days)
            )
            print(f"API key {key.id} for {key.name} ({key.preset}), by {key.created_by}")
            print(f"  expires: {shown_time(key.expires_at)}")
            print(f"  key: {text}")
            print("  (shown once: it cannot be shown again; put it in the machine's settings now)")
            action = "key_created"
        else:
            key = await keys.revoke(args.id, now)
            print(f"API key {key.id} ({key.name}): revoked")
            action = "key_revoked"
    trail = cli_audit_trail(data_dir)
    try:
        trail.append(
            actor=actor,
            source="cli",
            action=action,
            target=f"key:{key.id}",
            outcome="ok",
            detail={
                "name": key.name,
                "preset": key.preset.value,
                "expires": key.expires_at.isoformat(),
            },
            at=now,
        )
    finally:
        trail.close()
    return 0


def run_key(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except ApiKeyError as exc:
        print(f"dfr key {args.key_command}: {exc}", file=sys.stderr)
        return 2
