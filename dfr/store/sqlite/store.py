"""The SQLite store: :class:`dfr.store.store.Store` on one SQLite file, put together from
one part per record kind, all on the one connection of :class:`Database`."""

from __future__ import annotations

from dfr.store.sqlite.accounts import SqliteAccounts
from dfr.store.sqlite.alerts import SqliteAlerts
from dfr.store.sqlite.api_keys import SqliteApiKeys
from dfr.store.sqlite.commands import SqliteCommands
from dfr.store.sqlite.dock_holds import SqliteDockHolds
from dfr.store.sqlite.flights import SqliteFlights
from dfr.store.sqlite.incidents import SqliteIncidents
from dfr.store.sqlite.recordings import SqliteRecordings
from dfr.store.sqlite.track import SqliteTrack
from dfr.store.sqlite.units import SqliteUnits
from dfr.store.sqlite.viewer_links import SqliteViewerLinks


class SqliteStore(
    SqliteIncidents,  # incidents and dispatch decisions
    SqliteUnits,  # the responding units the CAD reports for them
    SqliteDockHolds,  # docks a person put on hold
    SqliteFlights,  # flights and phases
    SqliteTrack,
    SqliteCommands,
    SqliteAlerts,
    SqliteRecordings,
    SqliteAccounts,  # people: accounts, failed sign-ins, sessions
    SqliteApiKeys,  # machines: API keys
    SqliteViewerLinks,  # officers: viewer links
):
    """:class:`dfr.store.store.Store` on a SQLite file (``:memory:`` is refused: a
    store that forgets on restart is not a store)."""

    async def __aenter__(self) -> SqliteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
