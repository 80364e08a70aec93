"""One MAVLink 2 UDP link of a simulated vehicle (PX4's ``mavlink start -u ...``).

A :class:`Link` binds its local port, sends to the default remote (``host:port``)
until it hears from someone, then replies to the last sender's address, like PX4's
``Mavlink::init_udp``. pymavlink is only the codec: one ``MAVLink`` object to
encode (its sequence number) and one to parse, per link. Nothing raised while
parsing a datagram escapes ``datagram_received``; ICMP "port unreachable" errors
from sending before anyone listens are ignored quietly.

Signing. With a ``signing_key`` the link behaves like PX4 with a key provisioned: every
message it sends is MAVLink 2 signed (timestamp in 10 µs since 2015-01-01, never going
back), and it takes only messages whose signature checks out under the same key, with a
timestamp newer than the stream's last (no replays); unsigned or badly signed messages
are dropped (counted in ``rejected_unsigned``, the sender logged once), except
RADIO_STATUS, which a radio modem inserts unsigned. A sender whose messages are all
dropped never becomes the link's partner: it cannot turn the vehicle's replies to itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, cast

from pymavlink.dialects.v20 import common as mavlink2

logger = logging.getLogger(__name__)

Address = tuple[str, int]

SIGNING_EPOCH_UNIX_S = 1_420_070_400  # 2015-01-01T00:00:00Z, MAVLink's signing epoch
UNSIGNED_ALLOWED = frozenset({mavlink2.MAVLINK_MSG_ID_RADIO_STATUS})


def signing_timestamp() -> int:
    """Now, in MAVLink signing units (10 µs since 2015-01-01 UTC)."""
    return int((time.time() - SIGNING_EPOCH_UNIX_S) * 100_000)


def _accept_unsigned(mav: Any, msg_id: int) -> bool:
    return msg_id in UNSIGNED_ALLOWED


def setup_signing(mav: Any, key: bytes, *, link_id: int, sign_outgoing: bool) -> None:
    """Sign (``sign_outgoing``) and check with ``key`` on one pymavlink ``MAVLink`` object."""
    mav.signing.secret_key = key
    mav.signing.link_id = link_id
    mav.signing.timestamp = signing_timestamp()
    mav.signing.sign_outgoing = sign_outgoing
    mav.signing.allow_unsigned_callback = _accept_unsigned


class LinkMode(StrEnum):
    NORMAL = "normal"  # GCS link (QGroundControl)
    ONBOARD = "onboard"  # API / offboard link (MAVSDK)


class Extended:
    """A pymavlink message plus extension fields newer than pymavlink 2.4.50's dialect
    (MISSION_ACK/MISSION_COUNT ``opaque_id``, MISSION_CURRENT ``mission_id``/``fence_id``/
    ``rally_points_id``), appended to its payload in wire order. The CRC extra covers only
    the base fields, so the frame stays valid; older decoders ignore the extra bytes."""

    __slots__ = ("_extension", "_msg")

    def __init__(self, msg: Any, extension: bytes) -> None:
        self._msg = msg
        self._extension = extension

    def get_type(self) -> str:
        return str(self._msg.get_type())

    def pack(self, mav: Any) -> bytes:
        msg = self._msg
        payload = msg.unpacker.pack(*(getattr(msg, name) for name in msg.ordered_fieldnames))
        return bytes(msg._pack(mav, msg.crc_extra, payload + self._extension))


class Link(asyncio.DatagramProtocol):
    """A UDP MAVLink endpoint; ``on_message(link, msg)`` gets every decoded message."""

    def __init__(
        self,
        *,
        name: str,
        mode: LinkMode,
        sysid: int,
        local: Address,
        default_remote: Address,
        on_message: Callable[[Link, Any], None],
        signing_key: bytes | None = None,
        link_id: int = 0,
    ) -> None:
        self.name = name
        self.mode = mode
        self.local = local
        self.remote: Address = default_remote
        self.partner_seen = False
        self.blocked = False
        self.rx_dropped = False  # MAVLink signal-lost failure: receive nothing
        self._on_message = on_message
        self._encoder = mavlink2.MAVLink(None, srcSystem=sysid, srcComponent=1)
        self._decoder = mavlink2.MAVLink(None, srcSystem=sysid, srcComponent=1)
        self._decoder.robust_parsing = True
        self.signed = signing_key is not None
        if signing_key is not None:
            setup_signing(self._encoder, signing_key, link_id=link_id, sign_outgoing=True)
            setup_signing(self._decoder, signing_key, link_id=link_id, sign_outgoing=False)
        self._unsigned_senders: set[Address] = set()
        self._transport: asyncio.DatagramTransport | None = None
        self.messages_sent = 0
        self.messages_received = 0
        self.bad_datagrams = 0

    @property
    def mav(self) -> Any:
        """The encoder: ``link.mav.heartbeat_encode(...)``."""
        return self._encoder

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_datagram_endpoint(lambda: self, local_addr=self.local)
        except OSError as exc:  # say which port: the caller's fix is another port offset
            host, port = self.local[0], self.local[1]
            raise OSError(exc.errno, f"UDP {host}:{port}: {exc.strerror}") from exc

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # asyncio.DatagramProtocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable before the GCS/API client listens: expected, ignore
        logger.debug("%s: send error ignored: %s", self.name, exc)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.blocked or self.rx_dropped:
            return
        sender = (str(addr[0]), int(addr[1]))
        if not self.signed:
            self._partner(sender)
        rejected_before = self.rejected_unsigned
        try:
            messages = self._decoder.parse_buffer(data) or []
        except Exception as exc:  # a codec bug or hostile bytes must never stop a vehicle
            self.bad_datagrams += 1
            logger.debug("%s: undecodable datagram (%s)", self.name, exc)
            self._decoder.buf = bytearray()
            self._decoder.buf_index = 0
            return
        if self.signed:
            if any(msg.get_type() != "BAD_DATA" for msg in messages):
                self._partner(sender)  # only an authenticated sender gets the replies
            if self.rejected_unsigned > rejected_before and sender not in self._unsigned_senders:
                self._unsigned_senders.add(sender)
                logger.warning(
                    "%s: dropping unsigned or badly signed MAVLink from %s:%d",
                    self.name,
                    sender[0],
                    sender[1],
                )
        for msg in messages:
            if msg.get_type() == "BAD_DATA":
                self.bad_datagrams += 1
                continue
            self.messages_received += 1
            try:
                self._on_message(self, msg)
            except Exception:
                logger.exception("%s: error handling %s", self.name, msg.get_type())

    @property
    def rejected_unsigned(self) -> int:
        """Messages dropped for a missing or wrong signature (0 on an unsigned link)."""
        return int(self._decoder.signing.reject_count)  # the callback sees every one

    def _partner(self, sender: Address) -> None:
        if sender != self.remote:
            if not self.partner_seen:
                logger.info("%s: partner at %s:%d", self.name, sender[0], sender[1])
            self.remote = sender
        self.partner_seen = True

    def send(self, msg: Any) -> None:
        if self.blocked or self._transport is None:
            return
        if self.signed:  # a signature's timestamp follows the clock, and never goes back
            signing = self._encoder.signing
            signing.timestamp = max(signing.timestamp, signing_timestamp())
        try:
            data = msg.pack(self._encoder)
        except Exception:
            logger.exception("%s: cannot encode %s", self.name, msg.get_type())
            return
        self._encoder.seq = (self._encoder.seq + 1) % 256
        self._transport.sendto(data, self.remote)
        self.messages_sent += 1
