from __future__ import annotations

import asyncio
import json

import pytest

from dfr.bus import EventBus, Topic, make_message


def _pos(drone: str, n: int) -> dict[str, object]:
    return {"type": "position", "drone_id": drone, "seq": n}


async def test_latest_value_subscriber_keeps_only_the_newest_per_drone() -> None:
    bus = EventBus()
    slow = bus.subscribe(Topic.TELEMETRY, latest_only=True)
    for n in range(5):
        bus.publish(make_message(Topic.TELEMETRY, _pos("a", n)))
        bus.publish(make_message(Topic.TELEMETRY, _pos("b", n)))
    batch = await slow.get_batch()
    assert [(json.loads(m.text)["drone_id"], json.loads(m.text)["seq"]) for m in batch] == [
        ("a", 4),
        ("b", 4),
    ]
    assert slow.dropped == 8


async def test_slow_subscriber_does_not_hold_back_a_fast_one() -> None:
    bus = EventBus()
    bus.subscribe(Topic.TELEMETRY, latest_only=True)  # never read
    fast = bus.subscribe(Topic.TELEMETRY, latest_only=True)
    seen = []
    for n in range(100):
        bus.publish(make_message(Topic.TELEMETRY, _pos("a", n)))
        seen.extend(json.loads(m.text)["seq"] for m in await fast.get_batch())
    assert seen == list(range(100))


async def test_buffered_subscriber_drops_oldest_and_counts() -> None:
    bus = EventBus()
    sub = bus.subscribe(Topic.EVENTS, latest_only=False, max_pending=3)
    for n in range(5):
        bus.publish(make_message(Topic.EVENTS, {"type": "alert", "n": n}))
    assert [json.loads(m.text)["n"] for m in await sub.get_batch()] == [2, 3, 4]
    assert sub.dropped == 2


async def test_filter_and_close() -> None:
    bus = EventBus()
    sub = bus.subscribe(Topic.TELEMETRY, latest_only=True, accept=lambda m: m.drone_id == "b")
    bus.publish(make_message(Topic.TELEMETRY, _pos("a", 1)))
    bus.publish(make_message(Topic.TELEMETRY, _pos("b", 1)))
    assert [m.drone_id for m in await sub.get_batch()] == ["b"]
    waiter = asyncio.create_task(sub.get_batch(), name="test: waiter")
    await asyncio.sleep(0)
    bus.unsubscribe(sub)
    with pytest.raises(EOFError):
        await waiter
    assert bus.subscriber_count(Topic.TELEMETRY) == 0
