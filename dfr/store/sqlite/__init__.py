"""The SQLite store, one module per record kind (incidents and decisions, flights and
phases, track, commands, alerts, recordings) over one connection (:mod:`.database`),
one transaction helper (:mod:`.transaction`) and one row mapping (:mod:`.rows`)."""

from dfr.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
