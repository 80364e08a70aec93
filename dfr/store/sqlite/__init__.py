"""The SQLite store: the record kinds of :mod:`dfr.store.tables` over one connection
on one thread (:mod:`.database`), with SQLite's spelling of times, JSON and id lists
(:mod:`.dialect`) and one transaction helper (:mod:`.transaction`)."""

from dfr.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
