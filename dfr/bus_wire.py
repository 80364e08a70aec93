"""How the bus's messages travel on NATS: subjects, the events stream, headers.

A site's instances share ``dfr.<site>.telemetry.<drone_id>`` (core NATS) and
``dfr.<site>.events.<type>`` (the JetStream stream ``dfr-<site>-events``), ``<site>``
being the site's name made subject-safe. The payload is the message's JSON exactly as
websocket clients get it; the fields the subscribers filter on travel as headers, so a
receiver reads them without parsing the JSON:

    Dfr-Origin              the publishing instance (its own messages it drops)
    Dfr-Key                 drone id (telemetry) or event type (events)
    Dfr-Drone-Id, Dfr-Flight-Id
    Dfr-Published-Wall-Ns   the publisher's wall clock at publish (latency across processes)
    Nats-Msg-Id             events only: origin and number, so a retry is stored once
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from dfr.bus import Message, Topic, make_message

DUPLICATE_WINDOW_S = 120.0  # a retried publish with the same Nats-Msg-Id is stored once

ORIGIN = "Dfr-Origin"
KEY = "Dfr-Key"
DRONE_ID = "Dfr-Drone-Id"
FLIGHT_ID = "Dfr-Flight-Id"
WALL_NS = "Dfr-Published-Wall-Ns"
MSG_ID = "Nats-Msg-Id"

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")  # subject tokens: no '.', '*', '>' or spaces


def subject_token(text: str) -> str:
    """``text`` as one subject token (and part of a stream name)."""
    return _UNSAFE.sub("_", text) or "_"


@dataclass(frozen=True, slots=True)
class Subjects:
    """A site's subjects and stream: instances of one site share them."""

    site: str  # already a token

    @classmethod
    def for_site(cls, site_name: str) -> Subjects:
        return cls(subject_token(site_name.strip().lower()))

    @property
    def telemetry_all(self) -> str:
        return f"dfr.{self.site}.telemetry.>"

    @property
    def events_all(self) -> str:
        return f"dfr.{self.site}.events.>"

    @property
    def stream(self) -> str:
        return f"dfr-{self.site}-events"

    def of(self, message: Message) -> str:
        return f"dfr.{self.site}.{message.topic.value}.{subject_token(message.key)}"

    def stream_config(self, *, max_age_s: float, max_bytes: int) -> StreamConfig:
        """The events stream: file storage, limited by age and size, oldest dropped first."""
        return StreamConfig(
            name=self.stream,
            description=f"dfr events (/ws/events) of site {self.site}",
            subjects=[self.events_all],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=max_age_s,
            max_bytes=max_bytes,
            duplicate_window=DUPLICATE_WINDOW_S,
        )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message waiting to be sent."""

    message: Message
    wall_ns: int  # the publisher's wall clock at publish
    seq: int  # this instance's event number (events): the Nats-Msg-Id


def headers_for(out: Outgoing, origin: str) -> dict[str, str]:
    message = out.message
    headers = {ORIGIN: origin, KEY: message.key, WALL_NS: str(out.wall_ns)}
    if message.drone_id is not None:
        headers[DRONE_ID] = str(message.drone_id)
    if message.flight_id is not None:
        headers[FLIGHT_ID] = str(message.flight_id)
    if message.topic is Topic.EVENTS:
        headers[MSG_ID] = f"{origin}-{out.seq}"
    return headers


def message_from(topic: Topic, data: bytes, headers: dict[str, str]) -> Message:
    """The :class:`Message` a NATS message carries, its ``published_ns`` on this
    process's monotonic clock; raises ValueError (or UnicodeDecodeError, TypeError) for
    one it cannot read."""
    text = data.decode()
    key = headers.get(KEY)
    if key is None:  # not from dfr (a tool, a test): the fields are in the body
        body = json.loads(text)
        if not isinstance(body, dict):
            raise TypeError("the message is not a JSON object")
        return make_message(topic, body, published_ns=time.monotonic_ns())
    published_ns = time.monotonic_ns()
    wall = headers.get(WALL_NS)
    if wall is not None:
        published_ns -= max(0, time.time_ns() - int(wall))
    return Message(
        topic=topic,
        key=key,
        text=text,
        drone_id=headers.get(DRONE_ID),
        flight_id=headers.get(FLIGHT_ID),
        published_ns=published_ns,
    )


def redacted(url: str) -> str:
    """The server URL(s) without any user or password, for logs and errors."""
    shown = []
    for one in url.split(","):
        parts = urlsplit(one.strip())
        if parts.username is not None or parts.password is not None:
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
            one = f"{parts.scheme}://***@{host}{port}"
        shown.append(one.strip())
    return ",".join(shown)
