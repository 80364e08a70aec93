"""RTP is taken only from the drone's configured sender (real UDP on loopback).

The configured camera sends SSRC 1 from 127.0.0.1:PORT; a stray sender on the same host
(another port) and one from 127.0.0.2 send a whole stream of their own with another SSRC.
Their packets are dropped before parsing: no frames of theirs, no SSRC restart, one log
line each; the camera's frames flow on.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Iterator

import pytest

from dfr.video.ingest import UdpRtpIngest
from dfr.video.rtp import AccessUnit
from dfr.video.source import VideoSource
from sitl.rtp_h264 import RtpH264Packetizer


async def until(predicate: Callable[[], bool], timeout_s: float) -> None:
    """Wait for a condition on a real component (there is no event to wait on)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


class Sender:
    """A UDP socket bound to ``host`` that sends access units as one RTP stream."""

    def __init__(self, host: str, ssrc: int) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((host, 0))
        self.address: tuple[str, int] = self.socket.getsockname()
        self.packetizer = RtpH264Packetizer(ssrc=ssrc, first_sequence=100)
        self.packets_sent = 0

    async def send(self, units: list[AccessUnit], port: int) -> None:
        """One unit at a time, letting the ingest read (a burst overflows the socket)."""
        for unit in units:
            for packet in self.packetizer.packetize(unit.nals, unit.rtp_timestamp):
                self.socket.sendto(packet, ("127.0.0.1", port))
                self.packets_sent += 1
            await asyncio.sleep(0.005)

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def senders() -> Iterator[list[Sender]]:
    made: list[Sender] = []
    yield made
    for sender in made:
        sender.close()


async def test_only_the_configured_sender_is_taken(
    units: list[AccessUnit], senders: list[Sender], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dfr.video.ingest")
    camera = Sender("127.0.0.1", ssrc=1)
    same_host = Sender("127.0.0.1", ssrc=2)  # right host, wrong port
    other_host = Sender("127.0.0.2", ssrc=3)
    senders += [camera, same_host, other_host]
    got: list[AccessUnit] = []
    source = VideoSource.parse(f"127.0.0.1:{camera.address[1]}")
    ingest = UdpRtpIngest("d1", ("127.0.0.1", 0), got.append, lambda: None, source=source)
    async with ingest:
        await camera.send(units[:10], ingest.port)
        await until(lambda: len(got) == 10, 5)
        # both strays send a whole stream from a keyframe: taken, it would reset the
        # depacketizer (new SSRC) and its frames would be delivered
        for stray in (same_host, other_host):
            await stray.send(units[10:20], ingest.port)
            await stray.send(units[10:20], ingest.port)
        strays = same_host.packets_sent + other_host.packets_sent
        await until(lambda: ingest.stray_packets == strays, 5)
        await camera.send(units[20:30], ingest.port)
        await until(lambda: len(got) == 20, 5)
    wanted = [u.rtp_timestamp for u in units[:10] + units[20:30]]
    assert [u.rtp_timestamp for u in got] == wanted
    assert ingest.packets_received == camera.packets_sent
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "new SSRC" in m]
    for stray in (same_host, other_host):
        host, port = stray.address
        assert len([m for m in messages if f"dropping RTP from {host}:{port}" in m]) == 1
    assert ingest.stray_senders == {same_host.address, other_host.address}


async def test_host_only_source_takes_any_port_of_that_host(
    units: list[AccessUnit], senders: list[Sender]
) -> None:
    """``video_source: 127.0.0.1`` (the default): a camera restarted on a new port and with
    a new SSRC is still the camera; another host is not."""
    first = Sender("127.0.0.1", ssrc=1)
    restarted = Sender("127.0.0.1", ssrc=7)
    other_host = Sender("127.0.0.2", ssrc=8)
    senders += [first, restarted, other_host]
    got: list[AccessUnit] = []
    ingest = UdpRtpIngest("d1", ("127.0.0.1", 0), got.append, lambda: None)
    assert ingest.source == VideoSource.parse("127.0.0.1")
    async with ingest:
        await first.send(units[:10], ingest.port)
        await until(lambda: len(got) == 10, 5)
        await other_host.send(units[10:20], ingest.port)
        await until(lambda: ingest.stray_packets == other_host.packets_sent, 5)
        await restarted.send(units[20:30], ingest.port)
        await until(lambda: len(got) == 20, 5)
    assert [u.rtp_timestamp for u in got] == [u.rtp_timestamp for u in units[:10] + units[20:30]]


def test_video_source_forms() -> None:
    assert str(VideoSource.parse("10.0.0.5")) == "10.0.0.5"
    assert VideoSource.parse("10.0.0.5:5600").port == 5600
    v6 = VideoSource.parse("[fd00::5]:5600")
    assert (str(v6.host), v6.port) == ("fd00::5", 5600)
    assert VideoSource.parse("::1").port is None
    assert VideoSource.parse("10.0.0.5").allows(("::ffff:10.0.0.5", 4000, 0, 0))
    assert not VideoSource.parse("10.0.0.5:5600").allows(("10.0.0.5", 5601))
    for bad in ("camera.local", "10.0.0.5:0", "10.0.0.5:x", "[fd00::5", ""):
        with pytest.raises(ValueError):
            VideoSource.parse(bad)
