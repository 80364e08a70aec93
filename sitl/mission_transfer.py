"""The mission protocol, vehicle side (PX4 ``mavlink_mission.cpp``), for missions, fences
and rally points.

Upload: MISSION_COUNT → the vehicle requests each item with MISSION_REQUEST_INT
(MISSION_REQUEST if the partner answers with float MISSION_ITEMs), re-requests the
awaited item every 250 ms and gives up after 5 s without progress ("Operation
timeout"). Out-of-sequence items are ignored. An invalid item ends the transfer
with the matching MISSION_ACK error. The final ACK is ACCEPTED; a repeated last
item after completion is re-acknowledged. These timers are real time (the client's
are). Download: MISSION_REQUEST_LIST → MISSION_COUNT, then one MISSION_ITEM_INT per
request. MISSION_CLEAR_ALL clears one type or all; MISSION_SET_CURRENT moves the
mission's current item.

Opaque ids: a plan's id is the CRC32 of its items (:attr:`MissionTransfer.ids`, 0 when
empty), sent as ``opaque_id`` in the final MISSION_ACK and in MISSION_COUNT, and as
``mission_id``/``fence_id``/``rally_points_id`` in MISSION_CURRENT (appended with
:class:`sitl.link.Extended`, since pymavlink 2.4.50's dialect lacks these fields).
"""

from __future__ import annotations

import logging
import math
import struct
import time
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

from sitl.geofence import FenceError, FenceVertex, Geofence
from sitl.link import Extended, Link
from sitl.mission_item import MissionItem, MissionType
from sitl.outbox import StatusText
from sitl.plan_items import MissionResult, check_item, plan_id
from sitl.state import VehicleState

__all__ = ["MAX_ITEMS", "MissionTransfer", "TransferState", "plan_id"]

logger = logging.getLogger(__name__)

RETRY_S = 0.25
TIMEOUT_S = 5.0
MAX_ITEMS = {MissionType.MISSION: 1000, MissionType.FENCE: 256, MissionType.RALLY: 64}


class TransferState(StrEnum):
    IDLE = "idle"
    RECEIVING = "receiving"


_TRANSITIONS = {
    TransferState.IDLE: {TransferState.RECEIVING},
    TransferState.RECEIVING: {TransferState.IDLE, TransferState.RECEIVING},
}


class FenceSink(Protocol):
    """Who takes a newly stored fence at once (the commander's failsafes)."""

    def set_geofence(self, fence: Geofence) -> None: ...


class MissionSink(Protocol):
    """Who flies the stored plans (the navigator)."""

    def set_mission(self, items: Sequence[MissionItem], mission_id: int) -> None: ...

    def on_fence_uploaded(self, fence: Geofence, fence_id: int) -> None: ...

    def set_current(self, seq: int) -> bool: ...


class MissionTransfer:
    def __init__(
        self, state: VehicleState, out: StatusText, fences: FenceSink, missions: MissionSink
    ) -> None:
        self.s = state
        self.out = out
        self.fences = fences
        self.missions = missions
        self.state = TransferState.IDLE
        # the vehicle's stored plans and their ids (the same dicts as the state's)
        self.plans: dict[MissionType, list[MissionItem]] = state.plans
        self.ids: dict[MissionType, int] = state.plan_ids
        self._link: Link | None = None
        self._partner = (0, 0)
        self._type = MissionType.MISSION
        self._count = 0
        self._items: list[MissionItem] = []
        self._use_int = True
        self._last_progress_s = 0.0
        self._next_retry_s = 0.0
        self._completed: tuple[Link, MissionType, int] | None = None

    def _set_state(self, new: TransferState) -> None:
        if new not in _TRANSITIONS[self.state]:
            raise ValueError(f"{self.s.name}: mission transfer cannot go {self.state} -> {new}")
        if new is not self.state:
            logger.info("%s: mission transfer %s -> %s", self.s.name, self.state, new)
        self.state = new

    # --- sending ---------------------------------------------------------------------------
    def _ack(
        self,
        link: Link,
        target: tuple[int, int],
        result: int,
        mission_type: int,
        opaque_id: int | None = None,
    ) -> None:
        ack = link.mav.mission_ack_encode(target[0], target[1], result, mission_type)
        if opaque_id is None:
            link.send(ack)
        else:
            link.send(Extended(ack, struct.pack("<I", opaque_id)))

    def _request(self) -> None:
        link = self._link
        assert link is not None
        seq = len(self._items)
        if self._use_int:
            msg = link.mav.mission_request_int_encode(*self._partner, seq, self._type)
        else:
            msg = link.mav.mission_request_encode(*self._partner, seq, self._type)
        link.send(msg)

    # --- the tick --------------------------------------------------------------------------
    def update(self, now_s: float) -> None:
        if self.state is not TransferState.RECEIVING:
            return
        if now_s - self._last_progress_s > TIMEOUT_S:
            self.out.statustext(3, "Operation timeout")
            self._set_state(TransferState.IDLE)
            return
        if now_s >= self._next_retry_s:
            self._next_retry_s = now_s + RETRY_S
            self._request()

    # --- receiving -------------------------------------------------------------------------
    def handle(self, link: Link, msg: Any) -> None:
        kind = msg.get_type()
        handler = {
            "MISSION_COUNT": self._on_count,
            "MISSION_ITEM_INT": self._on_item,
            "MISSION_ITEM": self._on_item,
            "MISSION_REQUEST_LIST": self._on_request_list,
            "MISSION_REQUEST_INT": self._on_request,
            "MISSION_REQUEST": self._on_request,
            "MISSION_CLEAR_ALL": self._on_clear,
            "MISSION_SET_CURRENT": self._on_set_current,
        }.get(kind)
        if handler is not None:
            handler(link, msg)

    @staticmethod
    def _mission_type(msg: Any) -> MissionType | None:
        try:
            return MissionType(getattr(msg, "mission_type", 0))
        except ValueError:
            return None

    def _on_count(self, link: Link, msg: Any) -> None:
        partner = (msg.get_srcSystem(), msg.get_srcComponent())
        mtype = self._mission_type(msg)
        if mtype is None or mtype is MissionType.ALL:
            self._ack(link, partner, MissionResult.UNSUPPORTED, msg.mission_type)
            return
        if self.state is TransferState.RECEIVING and self._link is not link:
            self._ack(link, partner, MissionResult.DENIED, mtype)
            return
        if msg.count == 0:
            self._store(mtype, [])
            self._ack(link, partner, MissionResult.ACCEPTED, mtype, 0)
            if self.state is TransferState.RECEIVING:
                self._set_state(TransferState.IDLE)
            return
        if msg.count > MAX_ITEMS[mtype]:
            self._ack(link, partner, MissionResult.NO_SPACE, mtype)
            return
        self._link = link
        self._partner = partner
        self._type = mtype
        self._count = msg.count
        self._items = []
        self._use_int = True
        self._completed = None
        now = time.monotonic()
        self._last_progress_s = now
        self._next_retry_s = now + RETRY_S
        self._set_state(TransferState.RECEIVING)
        self._request()

    def _on_item(self, link: Link, msg: Any) -> None:
        partner = (msg.get_srcSystem(), msg.get_srcComponent())
        is_int = msg.get_type() == "MISSION_ITEM_INT"
        if self.state is not TransferState.RECEIVING or link is not self._link:
            done = self._completed
            if done is not None and done[0] is link and msg.seq == done[2] - 1:
                self._ack(link, partner, MissionResult.ACCEPTED, done[1], self.ids[done[1]])
            return
        if getattr(msg, "mission_type", 0) != self._type:
            self._ack(link, partner, MissionResult.ERROR, self._type)
            self._set_state(TransferState.IDLE)
            return
        if msg.seq != len(self._items):
            logger.debug(
                "%s: ignoring item %d (awaiting %d)", self.s.name, msg.seq, len(self._items)
            )
            return
        if not is_int:
            self._use_int = False
        try:
            x = int(msg.x) if is_int else round(msg.x * 1e7)
            y = int(msg.y) if is_int else round(msg.y * 1e7)
        except (ValueError, OverflowError):
            self._ack(link, partner, MissionResult.INVALID, self._type)
            self._set_state(TransferState.IDLE)
            return
        item = MissionItem(
            seq=msg.seq,
            frame=msg.frame,
            command=msg.command,
            current=msg.current,
            autocontinue=msg.autocontinue,
            param1=msg.param1,
            param2=msg.param2,
            param3=msg.param3,
            param4=msg.param4,
            x=x,
            y=y,
            z=msg.z,
            mission_type=self._type,
        )
        result = check_item(self._type, item)
        if result is not MissionResult.ACCEPTED:
            logger.info("%s: mission item %d refused: %s", self.s.name, msg.seq, result.name)
            self._ack(link, partner, result, self._type)
            self._set_state(TransferState.IDLE)
            return
        self._accept(link, partner, item)

    def _accept(self, link: Link, partner: tuple[int, int], item: MissionItem) -> None:
        """A valid item in sequence: request the next, or store the plan and ACK it."""
        self._items.append(item)
        now = time.monotonic()
        self._last_progress_s = now
        if len(self._items) < self._count:
            self._next_retry_s = now + RETRY_S
            self._request()
            return
        self._set_state(TransferState.IDLE)
        try:
            self._store(self._type, self._items)
        except FenceError as exc:
            self.out.statustext(3, f"Geofence: {exc}"[:50])
            self._ack(link, partner, MissionResult.ERROR, self._type)
            return
        self._completed = (link, self._type, self._count)
        self._ack(link, partner, MissionResult.ACCEPTED, self._type, self.ids[self._type])

    def _store(self, mtype: MissionType, items: list[MissionItem]) -> None:
        fence: Geofence | None = None
        if mtype is MissionType.FENCE:
            fence = Geofence.from_items(
                [
                    FenceVertex(
                        i.command,
                        int(i.param1) if math.isfinite(i.param1) else 0,
                        i.lat_deg,
                        i.lon_deg,
                        i.param1 if math.isfinite(i.param1) else 0.0,
                    )
                    for i in items
                ],
                self.s.frame,
            )
            self.fences.set_geofence(fence)
        self.plans[mtype] = list(items)
        self.ids[mtype] = plan_id(self.plans[mtype])
        if mtype is MissionType.MISSION:
            self.missions.set_mission(items, self.ids[mtype])
        elif fence is not None:
            # mavlink_mission.cpp update_geofence_count: a new geofence_id for the navigator,
            # which reloads the fence and checks the mission again
            self.missions.on_fence_uploaded(fence, self.ids[mtype])
        logger.info("%s: %s plan stored: %d items", self.s.name, mtype.name.lower(), len(items))

    def _on_request_list(self, link: Link, msg: Any) -> None:
        mtype = self._mission_type(msg)
        partner = (msg.get_srcSystem(), msg.get_srcComponent())
        if mtype is None or mtype is MissionType.ALL:
            self._ack(link, partner, MissionResult.UNSUPPORTED, getattr(msg, "mission_type", 0))
            return
        count = link.mav.mission_count_encode(*partner, len(self.plans[mtype]), mtype)
        link.send(Extended(count, struct.pack("<I", self.ids[mtype])))

    def _on_request(self, link: Link, msg: Any) -> None:
        mtype = self._mission_type(msg)
        partner = (msg.get_srcSystem(), msg.get_srcComponent())
        if mtype is None or mtype is MissionType.ALL:
            return
        items = self.plans[mtype]
        if not 0 <= msg.seq < len(items):
            self._ack(link, partner, MissionResult.INVALID_SEQUENCE, mtype)
            return
        it = items[msg.seq]
        x: float  # int for MISSION_ITEM_INT (1e7 degrees), float degrees for MISSION_ITEM
        y: float
        if msg.get_type() == "MISSION_REQUEST_INT":
            encode, x, y = link.mav.mission_item_int_encode, it.x, it.y
        else:  # MISSION_ITEM: float degrees
            encode, x, y = link.mav.mission_item_encode, it.x / 1e7, it.y / 1e7
        out = encode(
            partner[0],
            partner[1],
            it.seq,
            it.frame,
            it.command,
            it.current,
            it.autocontinue,
            it.param1,
            it.param2,
            it.param3,
            it.param4,
            x,
            y,
            it.z,
            mtype,
        )
        link.send(out)

    def _on_clear(self, link: Link, msg: Any) -> None:
        partner = (msg.get_srcSystem(), msg.get_srcComponent())
        mtype = self._mission_type(msg)
        if mtype is None:
            self._ack(link, partner, MissionResult.UNSUPPORTED, getattr(msg, "mission_type", 0))
            return
        types = list(MAX_ITEMS) if mtype is MissionType.ALL else [mtype]
        for each in types:
            self._store(each, [])
        self._ack(link, partner, MissionResult.ACCEPTED, mtype, 0)

    def _on_set_current(self, link: Link, msg: Any) -> None:
        if not self.missions.set_current(msg.seq):
            self.out.statustext(3, "WPM: WP CURR CMD: Not in list")
