"""Who owns which vehicle, and who runs the dispatch queue: leases.

:class:`SoleLeases` is one instance: it holds everything. :class:`PostgresLeases` are
PostgreSQL advisory locks held by a connection of this instance's own (not the store's
pool), so a lease lasts exactly as long as this process's session: when the process dies,
even by SIGKILL, its socket closes and the server lets every lock go at once. The locks:

- one per instance name (``DFR_INSTANCE_ID``): two processes cannot share a name, and the
  count of these is how many instances are alive;
- one per drone: its owner;
- the dispatcher's: the instance that runs the dispatch queue;
- the decision lock, taken for the moment a decision takes a drone (a second connection,
  so waiting for it never holds up the lease loop).

Every ``poll_s`` an instance reads which drones are held and takes free ones up to its
fair share (the drones over the instances alive, rounded up), in an order of its own (a
hash of its name and the drone's), so instances starting together spread the fleet. It
never gives a drone back: a drone moves only when its owner dies. If the lease connection
fails the instance can no longer prove it owns anything; it calls ``on_lost`` (the service
stops itself) rather than fly on beside a new owner.
"""

from __future__ import annotations

import asyncio
import logging
import math
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import psycopg
from psycopg import AsyncConnection

from dfr.errors import ConfigError
from dfr.store.postgres.url import CONNECT_TIMEOUT_S, DatabaseUrl

logger = logging.getLogger(__name__)

KEY_MASK = 0x7FFF_FFFF  # advisory lock keys stay positive int4s (pg_locks shows them as oids)
_SERVER_KEEPALIVE = (  # the server notices a vanished client (a dead host) within ~10 s
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 2",
    "SET tcp_keepalives_count = 3",
)
_CLIENT_KEEPALIVE: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}
_HELD = (
    "SELECT objid::bigint AS key FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND objsubid = 2 AND classid = %s::bigint::oid "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def lock_key(*parts: str) -> int:
    return zlib.crc32(":".join(parts).encode()) & KEY_MASK


class Leases(Protocol):
    instance_id: str
    several: bool  # other instances may exist (commands may have to go elsewhere)

    def owns(self, drone_id: str) -> bool: ...
    def owned(self) -> frozenset[str]: ...
    def decisions(self) -> AbstractAsyncContextManager[None]: ...
    async def aclose(self) -> None: ...


class SoleLeases:
    """One instance: every drone and the dispatcher are its own."""

    several = False

    def __init__(self, instance_id: str, drone_ids: Sequence[str]) -> None:
        self.instance_id = instance_id
        self._all = frozenset(drone_ids)

    def owns(self, drone_id: str) -> bool:
        return drone_id in self._all

    def owned(self) -> frozenset[str]:
        return self._all

    @asynccontextmanager
    async def decisions(self) -> AsyncIterator[None]:
        yield  # the desk's own lock is enough in one process

    async def aclose(self) -> None:
        return None


TakeDrones = Callable[[list[str]], Awaitable[None]]


class PostgresLeases:
    several = True

    def __init__(
        self,
        url: DatabaseUrl,
        *,
        site: str,
        instance_id: str,
        drone_ids: Sequence[str],
        poll_s: float,
        settle_s: float,
    ) -> None:
        self.url = url
        self.instance_id = instance_id
        self.poll_s = poll_s
        self.settle_s = settle_s
        self.is_dispatcher = False
        self._drone_class = lock_key("dfr", site, "drone")
        self._instance_class = lock_key("dfr", site, "instance")
        self._dispatcher_key = (lock_key("dfr", site, "dispatcher"), 0)
        self._decision_key = (lock_key("dfr", site, "decision"), 0)
        self._keys = {drone_id: lock_key(drone_id) for drone_id in drone_ids}
        if len(set(self._keys.values())) != len(self._keys):
            raise ConfigError("two drone ids give one lease key: rename one of them")
        # this instance's order of preference: spreads the fleet among instances
        self._order = sorted(drone_ids, key=lambda d: lock_key(instance_id, d))
        self._owned: set[str] = set()
        self._lease: AsyncConnection[Any] | None = None
        self._decide: AsyncConnection[Any] | None = None
        self._decide_lock = asyncio.Lock()

    def owns(self, drone_id: str) -> bool:
        return drone_id in self._owned

    def owned(self) -> frozenset[str]:
        return frozenset(self._owned)

    # -- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        """Connect (twice) and take this instance's name; a name in use is a ConfigError."""
        try:
            self._lease = await self._connect("lease")
            self._decide = await self._connect("decisions")
            name_key = lock_key(self.instance_id)
            if not await self._try_lock(self._lease, self._instance_class, name_key):
                raise ConfigError(
                    f"another dfr instance named {self.instance_id!r} is running on this "
                    "database (DFR_INSTANCE_ID must differ between instances)"
                )
        except BaseException:
            await self.aclose()
            raise
        logger.info("leases: instance %s on %s", self.instance_id, self.url.shown)

    async def _connect(self, role: str) -> AsyncConnection[Any]:
        params = {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": f"dfr {role} {self.instance_id}"[:63],
            **_CLIENT_KEEPALIVE,
        }
        try:
            conn = await AsyncConnection.connect(self.url.conninfo, autocommit=True, **params)
        except psycopg.Error as exc:
            reason = " ".join(self.url.scrubbed(str(exc)).split())
            raise ConfigError(f"leases: cannot connect to {self.url.shown}: {reason}") from exc
        for statement in _SERVER_KEEPALIVE:
            await conn.execute(statement)
        return conn

    async def aclose(self) -> None:
        """End the sessions: the server lets every lease go (the others take the drones)."""
        for conn in (self._lease, self._decide):
            if conn is not None and not conn.closed:
                await conn.close()
        self._lease = self._decide = None

    # -- taking drones -------------------------------------------------------------------

    async def run(
        self,
        take: TakeDrones,
        become_dispatcher: Callable[[], None],
        on_lost: Callable[[str], None],
    ) -> None:
        """Take free drones (``take`` starts their links and flights) and the dispatcher's
        lease, every ``poll_s``, until cancelled or the lease connection fails."""
        await asyncio.sleep(self.settle_s)
        while True:
            try:
                got = await self._round()
                if got:
                    await take(got)
                if not self.is_dispatcher:
                    assert self._lease is not None
                    if await self._try_lock(self._lease, *self._dispatcher_key):
                        self.is_dispatcher = True
                        logger.info("leases: %s runs the dispatch queue", self.instance_id)
                        become_dispatcher()
            except psycopg.Error as exc:
                on_lost(f"the lease connection failed: {type(exc).__name__}: {exc}")
                return
            await asyncio.sleep(self.poll_s)

    async def _round(self) -> list[str]:
        """The free drones this instance took now (within its share)."""
        conn = self._lease
        assert conn is not None, "leases not open"
        alive = len(await self._held(conn, self._instance_class))
        share = math.ceil(len(self._keys) / max(1, alive))
        held = await self._held(conn, self._drone_class)
        got: list[str] = []
        for drone_id in self._order:
            if len(self._owned) + len(got) >= share:
                break
            if drone_id in self._owned or self._keys[drone_id] in held:
                continue
            if await self._try_lock(conn, self._drone_class, self._keys[drone_id]):
                got.append(drone_id)
        if got:
            self._owned.update(got)
            logger.info(
                "leases: %s took %s (%d of %d drones, %d instances)",
                self.instance_id,
                ", ".join(got),
                len(self._owned),
                len(self._keys),
                alive,
            )
        return got

    @staticmethod
    async def _held(conn: AsyncConnection[Any], class_key: int) -> set[int]:
        cursor = await conn.execute(_HELD, (class_key,))
        return {int(row[0]) for row in await cursor.fetchall()}

    @staticmethod
    async def _try_lock(conn: AsyncConnection[Any], class_key: int, key: int) -> bool:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (class_key, key))
        row = await cursor.fetchone()
        return bool(row and row[0])

    # -- one decision at a time ----------------------------------------------------------

    @asynccontextmanager
    async def decisions(self) -> AsyncIterator[None]:
        """Held while a decision takes a drone, so two instances never take one drone."""
        async with self._decide_lock:
            conn = self._decide
            assert conn is not None, "leases not open"
            await conn.execute("SELECT pg_advisory_lock(%s, %s)", self._decision_key)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s, %s)", self._decision_key)
