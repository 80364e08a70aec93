"""The PostgreSQL store: :class:`dfr.store.store.Store` on a PostgreSQL database that
several dfr processes may share, the record kinds of :mod:`dfr.store.tables` on the pool
of :class:`PostgresDatabase`."""

from __future__ import annotations

from dfr.store.postgres.database import PostgresDatabase
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


class PostgresStore(
    StoredIncidents,
    StoredUnits,
    StoredDockHolds,
    StoredFlights,
    StoredTrack,
    StoredCommands,
    StoredAlerts,
    StoredRecordings,
    StoredAccounts,
    StoredApiKeys,
    StoredViewerLinks,
    PostgresDatabase,
):
    """:class:`dfr.store.store.Store` on the PostgreSQL database of a URL
    (``DFR_DATABASE_URL``)."""
