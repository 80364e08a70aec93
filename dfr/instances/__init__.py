"""Several service instances sharing one PostgreSQL store and one NATS bus.

Each vehicle is owned by exactly one instance: the one holding its lease
(:mod:`.leases`, a PostgreSQL advisory lock on a connection of its own). The owner runs the
vehicle's MAVLink link (it binds the vehicle's UDP port), its video and its flights; every
other instance holds a :class:`~.mirror_link.MirrorLink` fed by the owner's positions on
the bus, so any instance can answer reads, rank the fleet for a call and serve websockets.
What acts on a vehicle (a launch, a pilot's command, a diversion, an alert on its flight)
goes to the owner over NATS request/reply (:mod:`.owner_calls`); :class:`~.owners.Owners`
is the one place that decides whether to run it here or send it.

When an instance dies its PostgreSQL session ends, the server lets its locks go, and the
others take its vehicles within a poll (``DFR_LEASE_POLL_S``): bind the port, and resume
each active flight from the store as a restart does (a command whose answer never came is
``unknown``, never re-sent). Decisions that take a drone are made one at a time across
instances under a second advisory lock, and the dispatch queue runs on the one instance
that holds the dispatcher lease.

One instance (SQLite, or no NATS) holds every lease from the start: :class:`.leases.SoleLeases`.
"""
