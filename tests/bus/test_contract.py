"""The bus contract: what the service and the websockets rely on, for every bus.

Each test runs three times (``pair`` in conftest.py): the in-process bus; one NATS
instance with its own messages; and two NATS instances, one publishing, the other
subscribing through a real nats-server.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from dfr.bus import Topic, make_message
from tests.bus.conftest import Pair, body


def _pos(drone: str, n: int, flight: str | None = None) -> dict[str, object]:
    return {"type": "position", "drone_id": drone, "flight_id": flight, "seq": n}


async def test_latest_value_subscriber_keeps_only_the_newest_per_drone(pair: Pair) -> None:
    slow = pair.subscriber.subscribe(Topic.TELEMETRY, latest_only=True)
    probe = pair.probe(Topic.TELEMETRY)
    for n in range(5):
        pair.publisher.publish(make_message(Topic.TELEMETRY, _pos("a", n)))
        pair.publisher.publish(make_message(Topic.TELEMETRY, _pos("b", n)))
    offered = await pair.until(probe, lambda m: body(m) == _pos("b", 4))
    batch = await slow.get_batch()
    assert [(body(m)["drone_id"], body(m)["seq"]) for m in batch] == [("a", 4), ("b", 4)]
    # every position that reached this side but the newest two was replaced unsent
    # (between instances the publisher may already have sent only the newest ones)
    assert slow.dropped == len(offered) - 2
    if pair.kind != "nats-two-instances":
        assert slow.dropped == 8


async def test_slow_subscriber_does_not_hold_back_a_fast_one(pair: Pair) -> None:
    pair.subscriber.subscribe(Topic.TELEMETRY, latest_only=True)  # never read
    fast = pair.subscriber.subscribe(Topic.TELEMETRY, latest_only=True)
    seen: list[int] = []
    for n in range(100):
        pair.publisher.publish(make_message(Topic.TELEMETRY, _pos("a", n)))
        async with asyncio.timeout(5):
            seen.extend(body(m)["seq"] for m in await fast.get_batch())
    assert seen == list(range(100))


async def test_buffered_subscriber_drops_oldest_and_counts(pair: Pair) -> None:
    sub = pair.subscriber.subscribe(Topic.EVENTS, latest_only=False, max_pending=3)
    probe = pair.probe(Topic.EVENTS)
    for n in range(5):
        pair.publisher.publish(make_message(Topic.EVENTS, {"type": "alert", "n": n}))
    await pair.until(probe, lambda m: body(m)["n"] == 4)
    assert [body(m)["n"] for m in await sub.get_batch()] == [2, 3, 4]
    assert sub.dropped == 2


async def test_events_from_one_publisher_arrive_in_order(pair: Pair) -> None:
    sub = pair.subscriber.subscribe(Topic.EVENTS, latest_only=False, max_pending=1000)
    kinds = ["incident", "dispatch", "flight_phase", "alert", "command"]
    for n in range(200):
        pair.publisher.publish(make_message(Topic.EVENTS, {"type": kinds[n % 5], "n": n}))
    got = await pair.until(sub, lambda m: body(m)["n"] == 199)
    assert [body(m)["n"] for m in got] == list(range(200))
    assert sub.dropped == 0


async def test_filters_see_the_fields_the_publisher_set(pair: Pair) -> None:
    by_drone = pair.subscriber.subscribe(
        Topic.TELEMETRY, latest_only=True, accept=lambda m: m.drone_id == "b"
    )
    by_flight = pair.subscriber.subscribe(
        Topic.EVENTS, latest_only=False, accept=lambda m: m.flight_id == "f2"
    )
    telemetry = pair.probe(Topic.TELEMETRY)
    events = pair.probe(Topic.EVENTS)
    sent = make_message(Topic.TELEMETRY, _pos("b", 1, "f2"), published_ns=time.monotonic_ns())
    pair.publisher.publish(make_message(Topic.TELEMETRY, _pos("a", 1)))
    pair.publisher.publish(sent)
    for flight in ("f1", "f2", None):
        pair.publisher.publish(
            make_message(Topic.EVENTS, {"type": "flight_phase", "flight_id": flight})
        )
    await pair.until(telemetry, lambda m: m.drone_id == "b")
    await pair.until(events, lambda m: m.flight_id is None)

    (got,) = await by_drone.get_batch()
    assert (got.topic, got.key, got.text, got.drone_id, got.flight_id) == (
        sent.topic,
        sent.key,
        sent.text,
        sent.drone_id,
        sent.flight_id,
    )
    # its age on this side is its age since the publisher stamped it (clocks, not speed)
    assert sent.published_ns - 1_000_000 <= got.published_ns <= time.monotonic_ns()
    assert [(m.key, m.flight_id) for m in await by_flight.get_batch()] == [("flight_phase", "f2")]


async def test_unsubscribe_ends_a_waiting_reader_and_counts(pair: Pair) -> None:
    bus = pair.subscriber
    assert bus.subscriber_count(Topic.TELEMETRY) == 0
    sub = bus.subscribe(Topic.TELEMETRY, latest_only=True)
    other = bus.subscribe(Topic.EVENTS, latest_only=False)
    assert (bus.subscriber_count(Topic.TELEMETRY), bus.subscriber_count(Topic.EVENTS)) == (1, 1)
    waiter = asyncio.create_task(sub.get_batch(), name="test: waiter")
    await asyncio.sleep(0)
    bus.unsubscribe(sub)
    with pytest.raises(EOFError):
        await waiter
    assert (bus.subscriber_count(Topic.TELEMETRY), bus.subscriber_count(Topic.EVENTS)) == (0, 1)
    # an unsubscribed subscription gets nothing more
    probe = pair.probe(Topic.TELEMETRY)
    pair.publisher.publish(make_message(Topic.TELEMETRY, _pos("a", 1)))
    await pair.until(probe, lambda m: True)
    with pytest.raises(EOFError):
        await sub.get_batch()
    bus.unsubscribe(other)


async def test_close_all_ends_every_subscription(pair: Pair) -> None:
    bus = pair.subscriber
    subs = [bus.subscribe(Topic.TELEMETRY, latest_only=True) for _ in range(3)]
    subs.append(bus.subscribe(Topic.EVENTS, latest_only=False))
    bus.close_all()
    for sub in subs:
        with pytest.raises(EOFError):
            await sub.get_batch()
    assert bus.subscriber_count(Topic.TELEMETRY) == bus.subscriber_count(Topic.EVENTS) == 0


async def test_publish_never_waits_and_aclose_ends_subscriptions(pair: Pair) -> None:
    """publish is synchronous (a hand-off, whatever the subscribers do), and the bus's
    end closes what is still subscribed."""
    sub = pair.publisher.subscribe(Topic.EVENTS, latest_only=False, max_pending=10)
    for n in range(50):
        pair.publisher.publish(make_message(Topic.EVENTS, {"type": "alert", "n": n}))
    assert sub.dropped == 40
    await pair.publisher.aclose()
    with pytest.raises(EOFError):
        await sub.get_batch()
    await pair.publisher.aclose()  # again: nothing happens
