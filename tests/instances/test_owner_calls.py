"""Requests to a drone's owner over a real nats-server: answers and errors as raised
there, no owner refused at once, a slow owner's outcome unknown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client

from dfr.errors import (
    CommandError,
    CommandTimeout,
    InvalidInput,
    InvalidStateError,
    LinkError,
    NotFound,
)
from dfr.instances.owner_calls import OwnerCalls
from tests.bus.nats_server import NatsServer


async def _owner(drone_id: str, op: str, args: dict[str, Any]) -> Any:
    if op == "echo":
        return {"drone": drone_id, **args}
    if op == "slow":
        await asyncio.sleep(5)
    errors: dict[str, Exception] = {
        "missing": NotFound("flight f1 does not exist"),
        "state": InvalidStateError("flight f1 has ended; commands go to active flights"),
        "input": InvalidInput("alt_rel_m", "above the ceiling"),
        "refused": CommandError(drone_id, "orbit", "DENIED", "not in this mode"),
        "crash": RuntimeError("boom"),
    }
    raise errors[op]


@pytest.fixture
async def clients(nats_server: NatsServer) -> AsyncIterator[tuple[Client, Client]]:
    owner, caller = await nats.connect(nats_server.url), await nats.connect(nats_server.url)
    try:
        yield owner, caller
    finally:
        await owner.close()
        await caller.close()


async def test_requests_reach_the_owner_and_its_errors_come_back_as_they_were(
    clients: tuple[Client, Client],
) -> None:
    owner_nc, caller_nc = clients
    owner = OwnerCalls(lambda: owner_nc, "calls-test", _owner)
    caller = OwnerCalls(lambda: caller_nc, "calls-test", _owner)
    with pytest.raises(LinkError, match="no instance owns it right now"):
        await caller.call("d1", "echo", {"x": 1}, timeout_s=2)  # no owner: refused at once
    subscription = await owner.subscribe("d1")
    serving = asyncio.create_task(owner.serve("d1", subscription))
    try:
        await owner_nc.flush()
        assert await caller.call("d1", "echo", {"x": 1}, timeout_s=2) == {"drone": "d1", "x": 1}
        with pytest.raises(NotFound, match="flight f1 does not exist"):
            await caller.call("d1", "missing", {}, timeout_s=2)
        with pytest.raises(InvalidStateError, match="has ended"):
            await caller.call("d1", "state", {}, timeout_s=2)
        with pytest.raises(InvalidInput) as bad:
            await caller.call("d1", "input", {}, timeout_s=2)
        assert bad.value.field == "alt_rel_m" and str(bad.value) == "alt_rel_m: above the ceiling"
        with pytest.raises(CommandError) as refused:
            await caller.call("d1", "refused", {}, timeout_s=2)
        assert (refused.value.command, refused.value.result) == ("orbit", "DENIED")
        with pytest.raises(LinkError, match="its owner instance failed: RuntimeError: boom"):
            await caller.call("d1", "crash", {}, timeout_s=2)
        with pytest.raises(CommandTimeout, match="outcome is unknown"):
            await caller.call("d1", "slow", {}, timeout_s=0.3)
        with pytest.raises(LinkError, match="no instance owns it"):
            await caller.call("d2", "echo", {}, timeout_s=2)  # another drone: not this owner's
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
