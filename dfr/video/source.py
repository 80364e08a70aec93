"""Who may send a drone's RTP video: one source address, optionally one source port.

A UDP video port takes datagrams from anyone who can reach it; without a check, any host
on the network could replace a drone's evidence video (a new SSRC even restarts the
stream). The site says where each drone's camera sends from (``video_source``,
``HOST`` or ``HOST:PORT``, IPv6 as ``[ADDR]:PORT``); the ingest drops the rest.

Pure: no asyncio, no PyAV, so :mod:`dfr.site` can validate the field on load.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_VIDEO_SOURCE = "127.0.0.1"  # the simulator's and PX4 SITL's cameras send from here

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _plain(address: IpAddress) -> IpAddress:
    """``::ffff:10.0.0.5`` (a dual-stack socket's view of an IPv4 sender) -> ``10.0.0.5``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class VideoSource:
    """The one sender a video ingest accepts; ``port`` None: any source port of that host."""

    host: IpAddress
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> VideoSource:
        """``"10.0.0.5"``, ``"10.0.0.5:5600"``, ``"::1"``, ``"[::1]:5600"``; ValueError if not."""
        raw = text.strip()
        host, port_text = raw, ""
        if raw.startswith("["):
            host, sep, rest = raw[1:].partition("]")
            if not sep or (rest and not rest.startswith(":")):
                raise ValueError(f"{text!r}: expected [IPV6] or [IPV6]:PORT")
            port_text = rest[1:]
        elif raw.count(":") == 1:
            host, port_text = raw.split(":")
        try:
            address = _plain(ipaddress.ip_address(host))
        except ValueError as exc:
            raise ValueError(
                f"{text!r}: the host must be an IP address (HOST or HOST:PORT), not a name"
            ) from exc
        port: int | None = None
        if port_text:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ValueError(f"{text!r}: port must be 1..65535")
            port = int(port_text)
        return cls(address, port)

    def allows(self, addr: tuple[str | int, ...]) -> bool:
        """Is a datagram from ``addr`` (as asyncio gives it: host, port, ...) from this source?"""
        try:
            host = _plain(ipaddress.ip_address(str(addr[0]).split("%")[0]))
        except ValueError:
            return False
        return host == self.host and (self.port is None or int(addr[1]) == self.port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if self.host.version == 6 and self.port else str(self.host)
        return f"{host}:{self.port}" if self.port else host


LOOPBACK = VideoSource.parse(DEFAULT_VIDEO_SOURCE)
