"""Accounts, failed sign-ins and sessions in SQLite (tables ``accounts``,
``sign_in_failures``, ``sessions``): :class:`dfr.auth.accounts.AccountStore`."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from dfr.auth.accounts import Account, AccountState, Session
from dfr.auth.tokens import Role
from dfr.store.sqlite.database import Database


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _account(row: sqlite3.Row) -> Account:
    created = _parse(row["created_at"])
    assert created is not None
    return Account(
        username=row["username"],
        role=Role[row["role"].upper()],
        password_hash=row["password_hash"],
        totp_secret=row["totp_secret"],
        totp_last_step=row["totp_last_step"],
        state=AccountState(row["state"]),
        created_at=created,
    )


def _session(row: sqlite3.Row) -> Session:
    started, seen = _parse(row["started_at"]), _parse(row["last_seen_at"])
    assert started is not None and seen is not None
    return Session(
        digest=row["digest"],
        username=row["username"],
        role=Role[row["role"].upper()],
        started_at=started,
        last_seen_at=seen,
        ended_at=_parse(row["ended_at"]),
    )


class SqliteAccounts(Database):
    async def account(self, username: str) -> Account | None:
        def work() -> Account | None:
            row = self._db.execute(
                "SELECT * FROM accounts WHERE username = ?", (username,)
            ).fetchone()
            return None if row is None else _account(row)

        return await self._run(work)

    async def accounts(self) -> list[Account]:
        return await self._run(
            lambda: [
                _account(r) for r in self._db.execute("SELECT * FROM accounts ORDER BY username")
            ]
        )

    def _account_row(self, account: Account) -> tuple[object, ...]:
        return (
            account.role.label,
            account.password_hash,
            account.totp_secret,
            account.totp_last_step,
            account.state.value,
            account.username,
        )

    async def insert_account(self, account: Account) -> None:
        await self._execute(
            "INSERT INTO accounts (role, password_hash, totp_secret, totp_last_step, state,"
            " username, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*self._account_row(account), _time(account.created_at)),
        )

    async def update_account(self, account: Account) -> None:
        await self._execute(
            "UPDATE accounts SET role = ?, password_hash = ?, totp_secret = ?,"
            " totp_last_step = ?, state = ? WHERE username = ?",
            self._account_row(account),
        )

    async def add_failure(self, username: str, at: datetime) -> None:
        await self._execute(
            "INSERT INTO sign_in_failures (username, at) VALUES (?, ?)", (username, _time(at))
        )

    async def failures_since(self, username: str, since: datetime) -> int:
        def work() -> int:
            row = self._db.execute(
                "SELECT COUNT(*) FROM sign_in_failures WHERE username = ? AND at >= ?",
                (username, _time(since)),
            ).fetchone()
            return int(row[0])

        return await self._run(work)

    async def clear_failures(self, username: str) -> None:
        await self._execute("DELETE FROM sign_in_failures WHERE username = ?", (username,))

    async def session(self, digest: str) -> Session | None:
        def work() -> Session | None:
            row = self._db.execute("SELECT * FROM sessions WHERE digest = ?", (digest,)).fetchone()
            return None if row is None else _session(row)

        return await self._run(work)

    async def put_session(self, session: Session) -> None:
        await self._execute(
            "INSERT INTO sessions (digest, username, role, started_at, last_seen_at, ended_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO UPDATE SET"
            " last_seen_at = excluded.last_seen_at, ended_at = excluded.ended_at",
            (
                session.digest,
                session.username,
                session.role.label,
                _time(session.started_at),
                _time(session.last_seen_at),
                _time(session.ended_at),
            ),
        )

    async def end_sessions(self, username: str, at: datetime) -> int:
        cursor = await self._execute(
            "UPDATE sessions SET ended_at = ? WHERE username = ? AND ended_at IS NULL",
            (_time(at), username),
        )
        return cursor.rowcount
