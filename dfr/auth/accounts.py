"""People's accounts: sign-in with a password and a TOTP code, lockout, sessions.

The rules (CJIS Security Policy areas in brackets):

- A password (argon2id) and, for pilot, supervisor and admin, a TOTP code [IA-2(1)].
  A code is taken once.
- 5 failed sign-ins in 15 minutes lock the account until an admin releases it
  [AC-7]. The caller is told only "user name, password or code not accepted" (or
  "locked"); the audit trail gets the precise reason.
- A session is a random 256-bit token held by the browser in an HttpOnly cookie; the
  store keeps its SHA-256 only. It locks after 30 minutes without use and ends 12 hours
  after sign-in [AC-11, AC-12]; disabling the user or signing out ends it at once.

Times come from the caller (``now``) so the rules are tested without waiting.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from dfr.auth.passwords import hash_password, password_matches, password_problem
from dfr.auth.tokens import Principal, Role
from dfr.auth.totp import accepted_step, new_secret, provisioning_uri
from dfr.errors import AccessDenied, DfrError

FAILED_SIGN_INS_TO_LOCK = 5
FAILURE_WINDOW = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=30)  # how often a used session's last use is written
MFA_ROLES = frozenset({Role.PILOT, Role.SUPERVISOR, Role.ADMIN})
REFUSED = "user name, password or code not accepted"


class AccountError(DfrError):
    """A user-management request that cannot be done as asked (names what to fix)."""


class SignInRefused(AccessDenied):
    """A sign-in not accepted. ``audit_reason`` is for the trail, not the caller."""

    def __init__(self, message: str, audit_reason: str) -> None:
        super().__init__(message, authenticated=False)
        self.audit_reason = audit_reason


class AccountState(StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"  # too many failed sign-ins; an admin releases it
    DISABLED = "disabled"  # by an admin; sessions ended


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    role: Role
    password_hash: str
    totp_secret: str | None
    totp_last_step: int | None
    state: AccountState
    created_at: datetime

    @property
    def needs_mfa(self) -> bool:
        return self.role in MFA_ROLES


@dataclass(frozen=True, slots=True)
class Session:
    digest: str  # SHA-256 of the token, hex
    username: str
    role: Role
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None

    def expires_at(self, idle: timedelta = SESSION_IDLE, most: timedelta = SESSION_MAX) -> datetime:
        return min(self.last_seen_at + idle, self.started_at + most)


@dataclass(frozen=True, slots=True)
class NewAccount:
    account: Account
    password: str  # generated when none was given; shown once
    totp_uri: str | None  # otpauth:// to enrol the authenticator; shown once


class AccountStore(Protocol):
    async def account(self, username: str) -> Account | None: ...
    async def accounts(self) -> list[Account]: ...
    async def insert_account(self, account: Account) -> None: ...
    async def update_account(self, account: Account) -> None: ...
    async def add_failure(self, username: str, at: datetime) -> None: ...
    async def failures_since(self, username: str, since: datetime) -> int: ...
    async def clear_failures(self, username: str) -> None: ...
    async def session(self, digest: str) -> Session | None: ...
    async def put_session(self, session: Session) -> None: ...
    async def end_sessions(self, username: str, at: datetime) -> int: ...


def session_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _valid_username(username: str) -> str:
    name = username.strip()
    if not (2 <= len(name) <= 64) or not all(c.isalnum() or c in "._-@" for c in name):
        raise AccountError(f"user name {username!r}: 2-64 letters, digits or . _ - @ (no spaces)")
    return name


class Accounts:
    def __init__(
        self, store: AccountStore, *, idle: timedelta = SESSION_IDLE, most: timedelta = SESSION_MAX
    ) -> None:
        self._store = store
        self.idle = idle  # a session unused this long locks (the site may shorten it)
        self.most = most  # and ends this long after sign-in, used or not

    # --- user management (dfr user …, the admin API) -----------------------------
    async def add(
        self, username: str, role: Role, now: datetime, password: str | None = None
    ) -> NewAccount:
        name = _valid_username(username)
        if await self._store.account(name) is not None:
            raise AccountError(f"user {name!r} exists already (dfr user reset to change it)")
        password = password or secrets.token_urlsafe(15)
        if problem := password_problem(password, name):
            raise AccountError(f"user {name!r}: {problem}")
        secret = new_secret() if role in MFA_ROLES else None
        account = Account(
            name, role, hash_password(password), secret, None, AccountState.ACTIVE, now
        )
        await self._store.insert_account(account)
        uri = provisioning_uri(secret, name) if secret else None
        return NewAccount(account, password, uri)

    async def reset(self, username: str, now: datetime, password: str | None = None) -> NewAccount:
        """A new password (and TOTP secret), the account released, its sessions ended."""
        account = await self._existing(username)
        password = password or secrets.token_urlsafe(15)
        if problem := password_problem(password, account.username):
            raise AccountError(f"user {account.username!r}: {problem}")
        secret = new_secret() if account.needs_mfa else None
        account = replace(
            account,
            password_hash=hash_password(password),
            totp_secret=secret,
            totp_last_step=None,
            state=AccountState.ACTIVE,
        )
        await self._store.update_account(account)
        await self._store.clear_failures(account.username)
        await self._store.end_sessions(account.username, now)
        uri = provisioning_uri(secret, account.username) if secret else None
        return NewAccount(account, password, uri)

    async def set_state(self, username: str, state: AccountState, now: datetime) -> Account:
        account = replace(await self._existing(username), state=state)
        await self._store.update_account(account)
        if state is AccountState.ACTIVE:
            await self._store.clear_failures(account.username)
        else:
            await self._store.end_sessions(account.username, now)
        return account

    async def listed(self) -> list[Account]:
        return await self._store.accounts()

    async def _existing(self, username: str) -> Account:
        account = await self._store.account(username.strip())
        if account is None:
            raise AccountError(f"no user {username!r} (dfr user list shows them)")
        return account

    # --- sign-in and sessions ----------------------------------------------------
    async def sign_in(
        self, username: str, password: str, code: str | None, now: datetime
    ) -> tuple[str, Session]:
        """A new session's token and record, or `SignInRefused`."""
        account = await self._store.account(username.strip())
        if account is None:
            password_matches(_DUMMY_HASH, password)  # the same time as for a real user
            raise SignInRefused(REFUSED, "no such user")
        if account.state is AccountState.DISABLED:
            raise SignInRefused(REFUSED, "account disabled")
        if account.state is AccountState.LOCKED:
            raise SignInRefused(
                "account locked after repeated failed sign-ins: an admin must release it",
                "account locked",
            )
        reason = await self._second_factor_problem(account, password, code, now)
        if reason is not None:
            await self._failed(account, now)
            raise SignInRefused(REFUSED, reason)
        await self._store.clear_failures(account.username)
        token = secrets.token_urlsafe(32)
        session = Session(session_digest(token), account.username, account.role, now, now)
        await self._store.put_session(session)
        return token, session

    async def _second_factor_problem(
        self, account: Account, password: str, code: str | None, now: datetime
    ) -> str | None:
        if not password_matches(account.password_hash, password):
            return "wrong password"
        if not account.needs_mfa:
            return None
        if account.totp_secret is None:
            return "no TOTP enrolled (dfr user reset gives one)"
        if not code:
            return "TOTP code missing"
        step = accepted_step(account.totp_secret, code, account.totp_last_step, now.timestamp())
        if step is None:
            return "wrong or reused TOTP code"
        await self._store.update_account(replace(account, totp_last_step=step))
        return None

    async def _failed(self, account: Account, now: datetime) -> None:
        await self._store.add_failure(account.username, now)
        failures = await self._store.failures_since(account.username, now - FAILURE_WINDOW)
        if failures >= FAILED_SIGN_INS_TO_LOCK:
            await self._store.update_account(replace(account, state=AccountState.LOCKED))

    async def principal(
        self, token: str, now: datetime, *, use: bool = True
    ) -> tuple[Principal, Session]:
        """The session's principal (and the session), or `AccessDenied`. ``use``: the
        request is the person's (it keeps the session from locking); a page's background
        refresh passes False, so a console left open still locks when nobody uses it."""
        session = await self._store.session(session_digest(token))
        if session is None or session.ended_at is not None:
            raise AccessDenied("not signed in, or signed out: sign in again", authenticated=False)
        if now >= session.expires_at(self.idle, self.most):
            await self._store.put_session(replace(session, ended_at=now))
            raise AccessDenied(
                f"session {self._why_ended(session, now)}: sign in again", authenticated=False
            )
        if not use:
            return Principal(session.username, session.role, kind="user"), session
        touched = replace(session, last_seen_at=now)
        if now - session.last_seen_at >= min(TOUCH_EVERY, self.idle / 10):  # not every request
            await self._store.put_session(touched)
        return Principal(session.username, session.role, kind="user"), touched

    def _why_ended(self, session: Session, now: datetime) -> str:
        if now >= session.started_at + self.most:
            return f"ended {_span(self.most)} after sign-in"
        return f"locked after {_span(self.idle)} idle"

    async def sign_out(self, token: str, now: datetime) -> None:
        session = await self._store.session(session_digest(token))
        if session is not None and session.ended_at is None:
            await self._store.put_session(replace(session, ended_at=now))


def _span(value: timedelta) -> str:
    seconds = round(value.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours" if seconds != 3600 else "1 hour"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes" if seconds != 60 else "1 minute"
    return f"{seconds} seconds"


_DUMMY_HASH = hash_password("a password nobody has, for timing")
