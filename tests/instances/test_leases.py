"""Leases on a real PostgreSQL: instances share the fleet, one name each, a dead one's
drones go to the others, one decision at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest

from dfr.errors import ConfigError
from dfr.instances.leases import PostgresLeases
from dfr.store.postgres.url import parse_database_url

DRONES = ["d0", "d1", "d2", "d3", "d4"]


class Taker:
    """What the service does with the leases: the drones it took, and the dispatcher."""

    def __init__(self) -> None:
        self.took: list[list[str]] = []
        self.dispatcher = False
        self.lost: list[str] = []
        self.changed = asyncio.Event()

    async def take(self, drone_ids: list[str]) -> None:
        self.took.append(drone_ids)
        self.changed.set()

    def become_dispatcher(self) -> None:
        self.dispatcher = True

    @property
    def drones(self) -> set[str]:
        return {d for batch in self.took for d in batch}


def _leases(url: str, name: str, settle_s: float = 0.0) -> PostgresLeases:
    return PostgresLeases(
        parse_database_url(url),
        site="lease-test",
        instance_id=name,
        drone_ids=DRONES,
        poll_s=0.05,
        settle_s=settle_s,
    )


@asynccontextmanager
async def _running(leases: PostgresLeases, taker: Taker) -> AsyncIterator[asyncio.Task[None]]:
    await leases.open()
    task = asyncio.create_task(leases.run(taker.take, taker.become_dispatcher, taker.lost.append))
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await leases.aclose()


async def _until(condition: object, timeout_s: float = 10.0) -> None:
    assert callable(condition)
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polls what the leases' task changes
            await asyncio.sleep(0.02)


async def test_instances_starting_together_share_the_fleet_and_a_dead_ones_drones_move(
    postgres_url: str,
) -> None:
    one, two = Taker(), Taker()
    a, b = _leases(postgres_url, "a", settle_s=0.3), _leases(postgres_url, "b", settle_s=0.3)
    async with _running(a, one):
        async with _running(b, two):
            await _until(lambda: len(one.drones | two.drones) == len(DRONES))
            assert not one.drones & two.drones  # exactly one owner each
            assert {len(one.drones), len(two.drones)} == {2, 3}  # the share, rounded up
            assert one.dispatcher != two.dispatcher  # one dispatcher
            assert all(a.owns(d) for d in one.drones) and not any(a.owns(d) for d in two.drones)
        # b's session ended: a takes b's drones, and the dispatcher's lease
        await _until(lambda: one.drones == set(DRONES) and one.dispatcher)
        assert not one.lost


async def test_an_instance_name_in_use_is_refused(postgres_url: str) -> None:
    first = _leases(postgres_url, "same")
    await first.open()
    try:
        with pytest.raises(ConfigError, match="another dfr instance named 'same'"):
            await _leases(postgres_url, "same").open()
    finally:
        await first.aclose()


async def test_decisions_are_taken_one_at_a_time_across_instances(postgres_url: str) -> None:
    a, b = _leases(postgres_url, "a"), _leases(postgres_url, "b")
    await a.open()
    await b.open()
    order: list[str] = []
    try:

        async def decide(leases: PostgresLeases, name: str) -> None:
            async with leases.decisions():
                order.append(f"{name} in")
                await asyncio.sleep(0.2)
                order.append(f"{name} out")

        await asyncio.gather(decide(a, "a"), decide(b, "b"))
    finally:
        await a.aclose()
        await b.aclose()
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


async def test_losing_the_lease_connection_is_reported(postgres_url: str) -> None:
    taker = Taker()
    leases = _leases(postgres_url, "doomed")
    async with _running(leases, taker) as task:
        await _until(lambda: taker.drones == set(DRONES))
        with psycopg.connect(postgres_url, autocommit=True) as admin:  # the server ends it
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'dfr lease doomed'"
            )
        await asyncio.wait_for(asyncio.shield(task), 10)
    assert taker.lost and "lease connection failed" in taker.lost[0]
