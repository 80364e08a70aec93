"""Accounts, failed sign-ins and sessions (tables ``accounts``, ``sign_in_failures``,
``sessions``): :class:`dfr.auth.accounts.AccountStore`."""

from __future__ import annotations

from datetime import datetime

from dfr.auth.accounts import Account, AccountState, Session
from dfr.auth.tokens import Role
from dfr.store.database import Database
from dfr.store.rows import Row


class StoredAccounts(Database):
    def _account(self, row: Row) -> Account:
        return Account(
            username=row["username"],
            role=Role[row["role"].upper()],
            password_hash=row["password_hash"],
            totp_secret=row["totp_secret"],
            totp_last_step=row["totp_last_step"],
            state=AccountState(row["state"]),
            created_at=self.dialect.read_time(row["created_at"]),
        )

    def _session(self, row: Row) -> Session:
        read = self.dialect.read_time
        return Session(
            digest=row["digest"],
            username=row["username"],
            role=Role[row["role"].upper()],
            started_at=read(row["started_at"]),
            last_seen_at=read(row["last_seen_at"]),
            ended_at=None if row["ended_at"] is None else read(row["ended_at"]),
        )

    async def account(self, username: str) -> Account | None:
        rows = await self._select(
            "SELECT * FROM accounts WHERE username = ?", (username,), self._account
        )
        return rows[0] if rows else None

    async def accounts(self) -> list[Account]:
        return await self._select("SELECT * FROM accounts ORDER BY username", (), self._account)

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
            (*self._account_row(account), self.dialect.time(account.created_at)),
        )

    async def update_account(self, account: Account) -> None:
        await self._execute(
            "UPDATE accounts SET role = ?, password_hash = ?, totp_secret = ?,"
            " totp_last_step = ?, state = ? WHERE username = ?",
            self._account_row(account),
        )

    async def add_failure(self, username: str, at: datetime) -> None:
        await self._execute(
            "INSERT INTO sign_in_failures (username, at) VALUES (?, ?)",
            (username, self.dialect.time(at)),
        )

    async def failures_since(self, username: str, since: datetime) -> int:
        (count,) = await self._select(
            "SELECT COUNT(*) AS n FROM sign_in_failures WHERE username = ? AND at >= ?",
            (username, self.dialect.time(since)),
            lambda row: int(row["n"]),
        )
        return count

    async def clear_failures(self, username: str) -> None:
        await self._execute("DELETE FROM sign_in_failures WHERE username = ?", (username,))

    async def session(self, digest: str) -> Session | None:
        rows = await self._select(
            "SELECT * FROM sessions WHERE digest = ?", (digest,), self._session
        )
        return rows[0] if rows else None

    async def put_session(self, session: Session) -> None:
        time = self.dialect.time
        await self._execute(
            "INSERT INTO sessions (digest, username, role, started_at, last_seen_at, ended_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO UPDATE SET"
            " last_seen_at = excluded.last_seen_at, ended_at = excluded.ended_at",
            (
                session.digest,
                session.username,
                session.role.label,
                time(session.started_at),
                time(session.last_seen_at),
                self.dialect.maybe_time(session.ended_at),
            ),
        )

    async def end_sessions(self, username: str, at: datetime) -> int:
        return await self._execute(
            "UPDATE sessions SET ended_at = ? WHERE username = ? AND ended_at IS NULL",
            (self.dialect.time(at), username),
        )
