"""The SQLite store: :class:`dfr.store.store.Store` on one SQLite file, the record kinds
of :mod:`dfr.store.tables` on the one connection of :class:`SqliteDatabase`."""

from __future__ import annotations

from dfr.store.sqlite.database import SqliteDatabase
from dfr.store.tables.accounts import StoredAccounts
from dfr.store.tables.alerts import StoredAlerts
from dfr.store.tables.api_keys import StoredApiKeys
from dfr.store.tables.commands import StoredCommands
from dfr.store.tables.dock_holds import StoredDockHolds
from dfr.store.tables.flights import StoredFlights
from dfr.store.tables.incidents import StoredIncidents
from dfr.store.tables.recordings import StoredRecordings
from dfr.store.tables.track import StoredTrack
from dfr.store.tables.units import StoredUnits
from dfr.store.tables.viewer_links import StoredViewerLinks


class SqliteStore(
    StoredIncidents,  # incidents and dispatch decisions
    StoredUnits,  # the responding units the CAD reports for them
    StoredDockHolds,  # docks a person put on hold
    StoredFlights,  # flights and phases
    StoredTrack,
    StoredCommands,
    StoredAlerts,
    StoredRecordings,
    StoredAccounts,  # people: accounts, failed sign-ins, sessions
    StoredApiKeys,  # machines: API keys
    StoredViewerLinks,  # officers: viewer links
    SqliteDatabase,
):
    """:class:`dfr.store.store.Store` on a SQLite file (``:memory:`` is refused: a
    store that forgets on restart is not a store)."""
