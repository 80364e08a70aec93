"""Persistence: incidents, dispatch decisions, flights, phases, track, commands, alerts."""

from dfr.store.sqlite import SqliteStore
from dfr.store.store import Store

__all__ = ["SqliteStore", "Store"]
