"""MAVLink 2 signing on a simulated vehicle (PX4 with a key provisioned): pymavlink
clients over real UDP on 127.0.0.1. Signed with the key: taken. Unsigned, signed with
another key, or replayed: ignored, and the sender never gets the vehicle's replies."""

from __future__ import annotations

import argparse
import asyncio
import socket

import pytest

from dfr.cli import _signing_key
from sitl.fleet import VehicleSpec
from sitl.link import setup_signing
from sitl.probe import NAN, ProbeRig

HOME = (47.397742, 8.545594, 488.0)
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
ARM, ACCEPTED = 400, 0


@pytest.fixture
async def rig() -> ProbeRig:
    spec = VehicleSpec(0, *HOME, signing_key=KEY)
    async with ProbeRig([spec], speed_factor=10.0) as r:
        yield r


def _sign(rig: ProbeRig, key: bytes) -> None:
    setup_signing(rig.probe.mav, key, link_id=3, sign_outgoing=True)


async def test_the_vehicle_signs_everything_it_sends(rig: ProbeRig) -> None:
    p = rig.probe
    setup_signing(p._decoder, KEY, link_id=3, sign_outgoing=False)  # check its signatures
    since = p.mark()
    await p.wait_for("HEARTBEAT", since=since)
    await p.wait_for("SYS_STATUS", since=since)
    received = p.received[since:]
    assert received and all(m.get_signed() for m in received)
    assert p._decoder.signing.badsig_count == 0


async def test_signed_commands_are_taken(rig: ProbeRig) -> None:
    _sign(rig, KEY)
    ack = await rig.probe.command_long(ARM, 1)
    assert ack.result == ACCEPTED
    assert rig.vehicle.armed
    assert rig.vehicle.api_link.rejected_unsigned == 0


@pytest.mark.parametrize("key", [None, OTHER_KEY], ids=["unsigned", "other-key"])
async def test_unsigned_or_wrongly_signed_commands_are_ignored(
    rig: ProbeRig, key: bytes | None
) -> None:
    if key is not None:
        _sign(rig, key)
    p = rig.probe
    with pytest.raises(TimeoutError):
        await p.command_long(ARM, 1, timeout_s=1.0)
    p.send(p.mav.param_set_encode(1, 1, b"MIS_TAKEOFF_ALT", 33.0, 9))
    await asyncio.sleep(0.5)  # several ticks: a PARAM_SET taken would have been applied
    assert not rig.vehicle.armed
    assert rig.vehicle.params.get_float("MIS_TAKEOFF_ALT") != 33.0
    assert rig.vehicle.api_link.rejected_unsigned >= 2
    # and the right key still works on the same link
    _sign(rig, KEY)
    assert (await p.command_long(ARM, 1)).result == ACCEPTED


async def test_a_replayed_signed_command_is_ignored(rig: ProbeRig) -> None:
    p = rig.probe
    _sign(rig, KEY)
    arm = p.mav.command_long_encode(1, 1, ARM, 0, 1, NAN, NAN, NAN, NAN, NAN, NAN)
    recorded = arm.pack(p.mav)  # what an eavesdropper captures
    p.send_raw(recorded)
    await p.wait_for("COMMAND_ACK", lambda m: m.command == ARM)
    assert rig.vehicle.armed
    assert (await p.command_long(ARM, 0)).result == ACCEPTED  # disarm, signed, newer
    assert not rig.vehicle.armed
    since = p.mark()
    p.send_raw(recorded)  # the same bytes again: an old timestamp
    await asyncio.sleep(0.5)
    assert not rig.vehicle.armed
    assert not p.of_type("COMMAND_ACK", since)


async def test_an_unsigned_sender_does_not_get_the_replies(rig: ProbeRig) -> None:
    link = rig.vehicle.api_link
    _sign(rig, KEY)
    assert (await rig.probe.command_long(176, 1, 4, 3)).result == ACCEPTED  # a signed partner
    partner = link.remote
    stranger = rig.probe.mav.__class__(None, srcSystem=245, srcComponent=190)  # unsigned
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        rejected = link.rejected_unsigned
        for _ in range(3):
            sock.sendto(stranger.heartbeat_encode(6, 8, 0, 0, 0, 3).pack(stranger), link.local)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        assert link.rejected_unsigned == rejected + 3
        assert link.remote == partner, "an unauthenticated sender took the vehicle's replies"


def test_signing_key_argument() -> None:
    assert _signing_key(KEY.hex()) == KEY
    for bad in ("00" * 31, "zz" * 32, ""):
        with pytest.raises(argparse.ArgumentTypeError):
            _signing_key(bad)
    with pytest.raises(ValueError):
        VehicleSpec(0, *HOME, signing_key=b"short")
