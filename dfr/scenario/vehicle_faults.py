"""Faults the way PX4 takes them: ``MAV_CMD_INJECT_FAILURE`` (needs ``SYS_FAILURE_EN=1``)
over the vehicle's GCS port (PX4 SITL: UDP 18570 + instance), sent as a ground station
that sends no heartbeat (so it never keeps a data-link failsafe from happening).

pymavlink is used as a codec only; the socket is asyncio's.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from pymavlink.dialects.v20 import common as mavlink2

logger = logging.getLogger(__name__)

SITL_GCS_LOCAL_PORT = 18570
RUNNER_SYSID = 245
RUNNER_COMPID = 190
ACK_TIMEOUT_S = 2.0
ATTEMPTS = 3
MAV_CMD_INJECT_FAILURE = 420


class FailureUnit(IntEnum):  # FAILURE_UNIT
    SENSOR_GPS = 4
    SYSTEM_BATTERY = 100
    SYSTEM_MOTOR = 101


class FailureType(IntEnum):  # FAILURE_TYPE
    OK = 0
    OFF = 1
    WRONG = 4


@dataclass(frozen=True, slots=True)
class Injected:
    """The vehicle's answer: ``result`` is MAV_RESULT's name, or ``no answer``."""

    accepted: bool
    result: str


class _Gcs(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.parser = mavlink2.MAVLink(None)
        self.parser.robust_parsing = True
        self.messages: asyncio.Queue[Any] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        for message in self.parser.parse_buffer(data) or []:
            self.messages.put_nowait(message)


async def _exchange(port: int, sysid: int, encode: Any, answered: Any, what: str) -> Any | None:
    """Send ``encode(mav)`` to 127.0.0.1:``port`` until a message ``answered`` accepts."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        _Gcs, local_addr=("127.0.0.1", 0), remote_addr=("127.0.0.1", port)
    )
    try:
        mav = mavlink2.MAVLink(None, srcSystem=RUNNER_SYSID, srcComponent=RUNNER_COMPID)
        for _attempt in range(ATTEMPTS):
            transport.sendto(encode(mav).pack(mav))
            try:
                async with asyncio.timeout(ACK_TIMEOUT_S):
                    while True:
                        message = await protocol.messages.get()
                        if message.get_srcSystem() == sysid and answered(message):
                            return message
            except TimeoutError:
                logger.info("vehicle %d: no answer to %s, again", sysid, what)
        return None
    finally:
        transport.close()


async def enable_failure_injection(port: int, sysid: int) -> bool:
    """``SYS_FAILURE_EN`` = 1 (PX4 refuses injection without it)."""

    # PX4 sends integer parameters bytewise: the int32's bytes in the float field
    (one_bytewise,) = struct.unpack("<f", struct.pack("<i", 1))

    def encode(mav: Any) -> Any:
        return mav.param_set_encode(
            sysid, 1, b"SYS_FAILURE_EN", one_bytewise, mavlink2.MAV_PARAM_TYPE_INT32
        )

    def answered(message: Any) -> bool:
        return bool(message.get_type() == "PARAM_VALUE" and message.param_id == "SYS_FAILURE_EN")

    return await _exchange(port, sysid, encode, answered, "PARAM_SET SYS_FAILURE_EN") is not None


async def inject_failure(
    port: int, sysid: int, unit: FailureUnit, failure: FailureType
) -> Injected:
    """``MAV_CMD_INJECT_FAILURE`` to the vehicle whose GCS port is ``port``."""
    if not await enable_failure_injection(port, sysid):
        return Injected(False, "no answer to PARAM_SET SYS_FAILURE_EN")

    def encode(mav: Any) -> Any:
        return mav.command_long_encode(
            sysid, 1, MAV_CMD_INJECT_FAILURE, 0, int(unit), int(failure), 0, 0, 0, 0, 0
        )

    def answered(message: Any) -> bool:
        return bool(
            message.get_type() == "COMMAND_ACK" and message.command == MAV_CMD_INJECT_FAILURE
        )

    ack = await _exchange(port, sysid, encode, answered, "INJECT_FAILURE")
    if ack is None:
        return Injected(False, "no answer")
    name = mavlink2.enums["MAV_RESULT"][ack.result].name
    return Injected(ack.result == mavlink2.MAV_RESULT_ACCEPTED, name)
