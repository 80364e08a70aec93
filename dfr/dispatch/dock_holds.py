"""Docks a person put on hold (the supervisor's override: lightning near, a crowd at the
dock, maintenance). A held dock's drones are rejected by the dispatcher with the hold's
reason, so a call waits or goes to another dock; a drone already flying is not recalled.

The holds live in the store (they outlive a restart) and in memory here, read once at
start: the dispatcher reads them for every decision and must not wait on the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from types import MappingProxyType

from dfr.errors import InvalidStateError, NotFound
from dfr.records import DockHold
from dfr.store.store import Store

logger = logging.getLogger(__name__)


class DockHolds:
    def __init__(
        self,
        store: Store,
        dock_ids: Collection[str],
        on_change: Callable[[str, DockHold | None, str], None],
    ) -> None:
        """``on_change(dock_id, hold, by)``: after each hold (``hold``) and lift (None)."""
        self._store = store
        self._dock_ids = tuple(dock_ids)
        self._on_change = on_change
        self._holds: dict[str, DockHold] = {}

    async def load(self) -> None:
        """Read the stored holds (at start; a hold on a dock the site no longer has is
        kept in the store but ignored)."""
        stored = await self._store.list_dock_holds()
        self._holds = {h.dock_id: h for h in stored if h.dock_id in self._dock_ids}
        for hold in self._holds.values():
            logger.info("%s (since %s)", hold.text, hold.held_at.isoformat())

    @property
    def current(self) -> Mapping[str, DockHold]:
        """The docks on hold now, by dock id (a read-only view)."""
        return MappingProxyType(self._holds)

    def _check_dock(self, dock_id: str) -> None:
        if dock_id not in self._dock_ids:
            raise NotFound(f"dock {dock_id} does not exist (docks: {', '.join(self._dock_ids)})")

    async def hold(self, dock_id: str, reason: str, by: str, at: datetime) -> DockHold:
        self._check_dock(dock_id)
        hold = DockHold(dock_id, reason, by, at)
        if dock_id in self._holds or not await self._store.insert_dock_hold(hold):
            held = self._holds.get(dock_id)
            since = f": {held.reason} (by {held.held_by})" if held else ""
            raise InvalidStateError(f"dock {dock_id} is already on hold{since}")
        self._holds[dock_id] = hold
        logger.info("%s", hold.text)
        self._on_change(dock_id, hold, by)
        return hold

    async def lift(self, dock_id: str, by: str) -> DockHold:
        """Lift the dock's hold; the hold that was lifted."""
        self._check_dock(dock_id)
        hold = self._holds.get(dock_id)
        if hold is None or not await self._store.delete_dock_hold(dock_id):
            raise InvalidStateError(f"dock {dock_id} is not on hold")
        del self._holds[dock_id]
        logger.info("dock %s: hold lifted by %s (was: %s)", dock_id, by, hold.reason)
        self._on_change(dock_id, None, by)
        return hold
