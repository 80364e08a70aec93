"""The event bus over NATS: several service instances share positions and events.

Each instance holds **one** NATS connection and **one** NATS subscription per topic, and
fans what arrives out to its own websockets through the same latest-value and buffered
queues as the in-process bus (:class:`dfr.bus.EventBus`, held by :class:`NatsBus` as
``_local``); a websocket never has a NATS subscription of its own.

Subjects (:mod:`dfr.bus_wire`, with the headers), for a site token ``<site>``::

    dfr.<site>.telemetry.<drone_id>   core NATS: at most once, latest wins
    dfr.<site>.events.<type>          JetStream stream ``dfr-<site>-events`` (file
                                      storage, limited by age and size, old ones go first)

**Publishing** never waits: :meth:`NatsBus.publish` delivers to this instance's own
subscribers at once and hands the message to one of two publisher tasks the bus runs in
the service's task group. Telemetry waits in a latest-per-drone slot (a backlog sends
only the newest position of each drone) and is *not* sent while NATS is away (a late
position is a wrong position). Events wait in a FIFO (up to :data:`EVENTS_OUTBOX_MAX`)
and are published to JetStream one at a time, in order, each waiting for the stream's
ack; a publish that fails is logged and retried with capped backoff, carrying the same
``Nats-Msg-Id`` so that a retry of a publish whose ack was lost is not stored twice.

**Own messages exactly once.** An instance's own messages reach its own subscribers
locally, never through NATS: the connection is ``no_echo`` (the server does not send an
instance its own core messages back), and the events consumer drops the messages whose
``Dfr-Origin`` header is this instance (JetStream delivers them, since the stream, not
the connection, sends them). So the instance's own viewers see its drones with the
in-process latency, and go on seeing them while NATS is down.

**Receiving events**: an ordered, ephemeral push consumer per instance, delivering
the messages stored from the moment it starts (``DeliverPolicy.NEW``; nothing old is
replayed). nats-py rebuilds it after an outage from the last stream sequence it saw, so
the events other instances stored meanwhile still arrive.

**Latency across processes**: ``Message.published_ns`` is per-process monotonic time;
the wire carries the publisher's wall-clock publish time (``Dfr-Published-Wall-Ns``), and
the receiver maps it onto its own monotonic clock, so ``monotonic_ns() - published_ns`` is
the age of the message there too (exact on one machine; across machines as good as their
clock sync).

**Connection state**: :class:`BusState`. nats-py reconnects forever; the bus logs the
outage once and its end once, and the service runs on meanwhile.

The parts, a module each::

    bus.py          NatsBus: start and shutdown, publish, this instance's subscribers
    connection.py   the one NATS connection, BusState and its transitions, BusCounters
    stream.py       the JetStream events stream: made, updated, made again
    positions.py    positions out, coalesced per drone, at most once
    events.py       events out: the outbox, stored with ack, in order, retried
    receiver.py     the two subscriptions, into the local fan-out
"""

from dfr.bus_nats.bus import NatsBus
from dfr.bus_nats.connection import BusCounters, BusState

__all__ = ["BusCounters", "BusState", "NatsBus"]
