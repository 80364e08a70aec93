"""Buses for the contract tests: the in-process one, and NATS against a real nats-server
(one per xdist worker, started on first use and stopped at the end)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from dfr.bus import Bus, EventBus, Message, Subscription, Topic
from dfr.bus_nats import NatsBus
from tests.bus.nats_server import NatsServer, running_nats_server

ARRIVAL_TIMEOUT_S = 5.0


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    with running_nats_server(tmp_path_factory.mktemp("nats")) as server:
        yield server


class Tasks:
    """What the service's task group is to its bus, for tests: named tasks in a set,
    cancelled at the end."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)


def new_site() -> str:
    """A site of its own for each test: its own subjects and stream on the shared server."""
    return f"test-{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def running_bus(bus: Bus) -> AsyncIterator[Bus]:
    tasks = Tasks()
    await bus.start(tasks.spawn)
    try:
        yield bus
    finally:
        await bus.aclose()
        await tasks.aclose()


def nats_bus(server: NatsServer, site: str, **options: Any) -> NatsBus:
    return NatsBus(server.url, site=site, **options)


@dataclass
class Pair:
    """A publishing bus and a subscribing bus: the same one, or two instances."""

    kind: str
    publisher: Bus
    subscriber: Bus

    def probe(self, topic: Topic) -> Subscription:
        """A roomy FIFO on the subscribing side, made before publishing: once it has a
        message, every subscription there has been offered all before it."""
        return self.subscriber.subscribe(topic, latest_only=False, max_pending=100_000)

    async def until(
        self,
        probe: Subscription,
        last: Callable[[Message], bool],
        timeout_s: float = ARRIVAL_TIMEOUT_S,
    ) -> list[Message]:
        """Everything the probe gets up to and including the message ``last`` picks."""
        seen: list[Message] = []
        async with asyncio.timeout(timeout_s):
            while True:
                for message in await probe.get_batch():
                    seen.append(message)
                    if last(message):
                        return seen


def body(message: Message) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(message.text)
    return decoded


@pytest.fixture(params=["in-process", "nats", "nats-two-instances"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    """The contract's three cases: the in-process bus; one NATS instance (its own
    messages, delivered locally); two NATS instances (through the server)."""
    kind: str = request.param
    if kind == "in-process":
        async with running_bus(EventBus()) as bus:
            yield Pair(kind, bus, bus)
        return
    server: NatsServer = request.getfixturevalue("nats_server")
    site = new_site()
    async with running_bus(nats_bus(server, site)) as publisher:
        if kind == "nats":
            yield Pair(kind, publisher, publisher)
            return
        async with running_bus(nats_bus(server, site)) as subscriber:
            yield Pair(kind, publisher, subscriber)
