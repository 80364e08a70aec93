"""``dfr user add|list|disable|enable|reset``: the first admin and the people after.

Works on the service's store directly (the service may be running: SQLite serialises
the writes, PostgreSQL takes them as from any instance): the SQLite file in
``--data-dir``, or the PostgreSQL database of ``DFR_DATABASE_URL`` when that is set. Every change goes into the audit trail as done by ``cli``. A new or reset
password and TOTP secret are printed once, here, and never again.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path

from dfr.audit.audit_cli import cli_audit_trail
from dfr.auth.accounts import AccountError, Accounts, AccountState, NewAccount
from dfr.auth.tokens import Role
from dfr.config import Settings, command_settings
from dfr.store.backend import open_store

ROLES = [role.label for role in Role]


def add_user_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="manage people's accounts (the first admin too)")
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="a new account; prints its password and TOTP once")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    actions.add_parser("list", help="every account, its role and state")
    for name, text in (
        ("disable", "refuse sign-in and end the user's sessions"),
        ("enable", "allow sign-in again (also releases a locked account)"),
        ("reset", "a new password and TOTP secret, released, sessions ended"),
    ):
        actions.add_parser(name, help=text).add_argument("username")
    for parser in actions.choices.values():
        parser.add_argument("--data-dir", default="var", help="the service's data directory")


def _shown_once(new: NewAccount) -> None:
    account = new.account
    print(f"user {account.username} ({account.role.label})")
    print(f"  password: {new.password}")
    if new.totp_uri:
        print(f"  TOTP secret: {account.totp_secret}")
        print(f"  authenticator URI: {new.totp_uri}")
    print("  (shown once: hand it over in person, then clear this screen)")


async def _run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    now = datetime.now(UTC)
    async with open_store(command_settings(data_dir=data_dir)) as store:
        accounts = Accounts(store)
        command = args.user_command
        if command == "list":
            for account in await accounts.listed():
                mfa = "totp" if account.totp_secret else "-"
                print(f"{account.username:24} {account.role.label:10} {account.state:8} {mfa}")
            return 0
        if command == "add":
            new = await accounts.add(args.username, Role[args.role.upper()], now)
            _shown_once(new)
            detail = {"role": args.role}
        elif command == "reset":
            _shown_once(await accounts.reset(args.username, now))
            detail = {}
        else:
            state = AccountState.DISABLED if command == "disable" else AccountState.ACTIVE
            account = await accounts.set_state(args.username, state, now)
            print(f"user {account.username}: {account.state}")
            detail = {"state": state.value}
    trail = cli_audit_trail(data_dir)
    try:
        trail.append(
            actor="cli",
            source="cli",
            action=f"user_{command}",
            target=f"user:{args.username}",
            outcome="ok",
            detail=detail,
        )
    finally:
        trail.close()
    return 0


def run_user(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except AccountError as exc:
        print(f"dfr user {args.user_command}: {exc}")
        return 2


async def first_demo_user(settings: Settings) -> NewAccount | None:
    """The demo's first admin, ``demo``, made on a store with no accounts yet (its
    password and TOTP secret are shown once); None when the store has people already."""
    async with open_store(settings) as store:
        accounts = Accounts(store)
        if await accounts.listed():
            return None
        new = await accounts.add("demo", Role.ADMIN, datetime.now(UTC))
    trail = cli_audit_trail(settings.data_dir)
    try:
        trail.append(
            actor="cli",
            source="cli",
            action="user_add",
            target="user:demo",
            outcome="ok",
            detail={"role": "admin", "why": "the demo's first admin"},
        )
    finally:
        trail.close()
    return new
