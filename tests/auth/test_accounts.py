"""Accounts on the real store (SQLite and PostgreSQL, ``store_backend``): sign-in with
password and TOTP, lockout after five failures in fifteen minutes, sessions that lock
when idle and end after twelve hours."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from dfr.auth.accounts import (
    REFUSED,
    AccountError,
    Accounts,
    AccountState,
    NewAccount,
    SignInRefused,
)
from dfr.auth.tokens import Role
from dfr.config import Settings
from dfr.errors import AccessDenied
from dfr.store import SqliteStore
from tests.store_backends import StoreBackend

T0 = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
PASSWORD = "a long pass phrase 42"


@pytest.fixture
async def accounts(store_backend: StoreBackend) -> AsyncIterator[Accounts]:
    async with store_backend.make() as store:
        yield Accounts(store)


def _code(new: NewAccount, at: datetime) -> str:
    assert new.account.totp_secret is not None
    return pyotp.TOTP(new.account.totp_secret).at(at)


async def test_a_pilot_signs_in_with_password_and_code_once(accounts: Accounts) -> None:
    new = await accounts.add("alice", Role.PILOT, T0, PASSWORD)
    assert new.totp_uri is not None and new.totp_uri.startswith("otpauth://totp/dfr:alice")
    stored = await accounts.listed()
    assert [a.username for a in stored] == ["alice"]
    assert stored[0].password_hash.startswith("$argon2id$")  # never the password itself
    with pytest.raises(SignInRefused) as missing:
        await accounts.sign_in("alice", PASSWORD, None, T0)
    assert str(missing.value) == REFUSED and missing.value.audit_reason == "TOTP code missing"
    token, _ = await accounts.sign_in("alice", PASSWORD, _code(new, T0), T0)
    principal, _ = await accounts.principal(token, T0 + timedelta(minutes=1))
    assert (principal.name, principal.role) == ("alice", Role.PILOT)
    with pytest.raises(SignInRefused) as replayed:  # the same code again
        await accounts.sign_in("alice", PASSWORD, _code(new, T0), T0 + timedelta(seconds=5))
    assert replayed.value.audit_reason == "wrong or reused TOTP code"


async def test_a_viewer_needs_no_second_factor(accounts: Accounts) -> None:
    new = await accounts.add("officer7", Role.VIEWER, T0, PASSWORD)
    assert new.totp_uri is None
    token, _ = await accounts.sign_in("officer7", PASSWORD, None, T0)
    assert (await accounts.principal(token, T0))[0].role is Role.VIEWER


async def test_five_failures_in_fifteen_minutes_lock_until_an_admin_releases(
    accounts: Accounts,
) -> None:
    new = await accounts.add("bob", Role.SUPERVISOR, T0, PASSWORD)
    for minute in range(5):
        with pytest.raises(SignInRefused):
            await accounts.sign_in("bob", "wrong password!!", None, T0 + timedelta(minutes=minute))
    at = T0 + timedelta(minutes=6)
    with pytest.raises(SignInRefused, match="locked") as locked:  # even with the right ones
        await accounts.sign_in("bob", PASSWORD, _code(new, at), at)
    assert locked.value.audit_reason == "account locked"
    assert (await accounts.listed())[0].state is AccountState.LOCKED
    await accounts.set_state("bob", AccountState.ACTIVE, at)
    token, _ = await accounts.sign_in("bob", PASSWORD, _code(new, at), at)
    assert (await accounts.principal(token, at))[0].name == "bob"


async def test_failures_spread_wider_than_the_window_do_not_lock(accounts: Accounts) -> None:
    await accounts.add("carol", Role.VIEWER, T0, PASSWORD)
    for i in range(6):
        with pytest.raises(SignInRefused):
            await accounts.sign_in("carol", "not her password", None, T0 + timedelta(minutes=4 * i))
    await accounts.sign_in("carol", PASSWORD, None, T0 + timedelta(minutes=25))


async def test_a_session_locks_when_idle_and_ends_after_twelve_hours(accounts: Accounts) -> None:
    await accounts.add("dave", Role.VIEWER, T0, PASSWORD)
    token, _ = await accounts.sign_in("dave", PASSWORD, None, T0)
    with pytest.raises(AccessDenied, match="30 minutes idle"):
        await accounts.principal(token, T0 + timedelta(minutes=31))
    with pytest.raises(AccessDenied, match="signed out"):  # and it stays ended
        await accounts.principal(token, T0 + timedelta(minutes=32))
    token, _ = await accounts.sign_in("dave", PASSWORD, None, T0)
    at = T0
    while at < T0 + timedelta(hours=11, minutes=40):  # used every 20 minutes
        at += timedelta(minutes=20)
        await accounts.principal(token, at)
    with pytest.raises(AccessDenied, match="12 hours"):
        await accounts.principal(token, T0 + timedelta(hours=12, minutes=1))


async def test_disabling_ends_sessions_and_bad_requests_say_what_to_fix(
    accounts: Accounts,
) -> None:
    await accounts.add("erin", Role.VIEWER, T0, PASSWORD)
    token, _ = await accounts.sign_in("erin", PASSWORD, None, T0)
    await accounts.set_state("erin", AccountState.DISABLED, T0)
    with pytest.raises(AccessDenied):
        await accounts.principal(token, T0)
    with pytest.raises(SignInRefused) as disabled:
        await accounts.sign_in("erin", PASSWORD, None, T0)
    assert str(disabled.value) == REFUSED  # the caller is not told which part was wrong
    with pytest.raises(AccountError, match="exists already"):
        await accounts.add("erin", Role.VIEWER, T0, PASSWORD)
    with pytest.raises(AccountError, match="at least 12 characters"):
        await accounts.add("frank", Role.VIEWER, T0, "short")
    with pytest.raises(AccountError, match="no spaces"):
        await accounts.add("a b", Role.VIEWER, T0, PASSWORD)
    with pytest.raises(AccountError, match="no user"):
        await accounts.reset("nobody", T0)
    with pytest.raises(SignInRefused) as unknown:
        await accounts.sign_in("nobody", PASSWORD, None, T0)
    assert unknown.value.audit_reason == "no such user"


async def test_a_reset_gives_a_new_password_and_secret_and_releases(accounts: Accounts) -> None:
    old = await accounts.add("gina", Role.ADMIN, T0, PASSWORD)
    token, _ = await accounts.sign_in("gina", PASSWORD, _code(old, T0), T0)
    new = await accounts.reset("gina", T0 + timedelta(minutes=1))
    assert new.password != PASSWORD and new.account.totp_secret != old.account.totp_secret
    with pytest.raises(AccessDenied):  # the reset ended the old session
        await accounts.principal(token, T0 + timedelta(minutes=1))
    at = T0 + timedelta(minutes=2)
    await accounts.sign_in("gina", new.password, _code(new, at), at)


async def test_background_refreshes_do_not_keep_a_session_from_locking(accounts: Accounts) -> None:
    await accounts.add("fay", Role.VIEWER, T0, PASSWORD)
    token, _ = await accounts.sign_in("fay", PASSWORD, None, T0)
    at = T0
    while at < T0 + timedelta(minutes=29):  # a console polling every minute, nobody at it
        at += timedelta(minutes=1)
        principal, _ = await accounts.principal(token, at, use=False)
        assert principal.kind == "user"
    with pytest.raises(AccessDenied, match="30 minutes idle"):
        await accounts.principal(token, T0 + timedelta(minutes=30), use=False)


async def test_a_site_may_shorten_the_idle_lock(store_backend: StoreBackend) -> None:
    async with store_backend.make() as store:
        short = Accounts(store, idle=timedelta(seconds=90))
        await short.add("gus", Role.VIEWER, T0, PASSWORD)
        token, _ = await short.sign_in("gus", PASSWORD, None, T0)
        await short.principal(token, T0 + timedelta(seconds=80))  # used: 90 s from now
        await short.principal(token, T0 + timedelta(seconds=160))
        with pytest.raises(AccessDenied, match="locked after 90 seconds idle"):
            await short.principal(token, T0 + timedelta(seconds=251))


async def test_the_demo_makes_its_first_admin_once_and_it_signs_in_with_its_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dfr.auth.totp import main as totp_main
    from dfr.auth.user_cli import first_demo_user

    settings = Settings(data_dir=tmp_path)
    new = await first_demo_user(settings)
    assert new is not None and new.account.role is Role.ADMIN and new.account.totp_secret
    assert await first_demo_user(settings) is None  # people exist: nobody is made again
    assert totp_main([new.account.totp_secret]) == 0
    code = capsys.readouterr().out.strip()
    async with SqliteStore(tmp_path / "dfr.db") as store:
        _, session = await Accounts(store).sign_in("demo", new.password, code, datetime.now(UTC))
    assert session.username == "demo"
