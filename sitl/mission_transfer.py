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
import zlib
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

from sitl.geofence import FenceError, FenceVertex, Geofence
from sitl.link import Extended, Link
from sitl.mission_item import ACCEPTED_FRAMES, MissionItem, MissionType

if TYPE_CHECKING:
    from sitl.vehicle import Vehicle

logger = logging.getLogger(__name__)

RETRY_S = 0.25
TIMEOUT_S = 5.0
MAX_ITEMS = {MissionType.MISSION: 1000, MissionType.FENCE: 256, MissionType.RALLY: 64}

FENCE_COMMANDS = frozenset({5000, 5001, 5002, 5003, 5004})
RALLY_COMMANDS = frozenset({5100})
MISSION_COMMANDS = frozenset(
    {
        16,
        17,
        18,
        19,
        20,
        21,
        22,
        31,
        84,
        85,
        93,
        112,
        114,
        177,
        178,
        179,
        183,
        187,
        189,
        195,
        197,
        200,
        201,
        205,
        206,
        211,
        214,
        400,
        530,
        531,
        532,
        1000,
        1001,
        2000,
        2001,
        2003,
        2004,
        2500,
        2501,
        3000,
        42600,
    }
)


class MissionResult(IntEnum):
    """MAV_MISSION_RESULT."""

    ACCEPTED = 0
    ERROR = 1
    UNSUPPORTED_FRAME = 2
    UNSUPPORTED = 3
    NO_SPACE = 4
    INVALID = 5
    INVALID_SEQUENCE = 13
    DENIED = 14


class TransferState(StrEnum):
    IDLE = "idle"
    RECEIVING = "receiving"


_TRANSITIONS = {
    TransferState.IDLE: {TransferState.RECEIVING},
    TransferState.RECEIVING: {TransferState.IDLE, TransferState.RECEIVING},
}


def plan_id(items: list[MissionItem]) -> int:
    crc = 0
    for it in items:
        crc = zlib.crc32(
            struct.pack(
                "<HHBffffiif",
                it.command,
                it.seq,
                it.frame,
                it.param1,
                it.param2,
                it.param3,
                it.param4,
                it.x,
                it.y,
                it.z,
            ),
            crc,
        )
    return crc & 0xFFFFFFFF


class MissionTransfer:
    def __init__(self, vehicle: Vehicle) -> None:
        self.v = vehicle
        self.state = TransferState.IDLE
        self.plans: dict[MissionType, list[MissionItem]] = {t: [] for t in MAX_ITEMS}
        self.ids: dict[MissionType, int] = {t: 0 for t in MAX_ITEMS}
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
            raise ValueError(f"{self.v.name}: mission transfer cannot go {self.state} -> {new}")
        if new is not self.state:
            logger.info("%s: mission transfer %s -> %s", self.v.name, self.state, new)
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
            self.v.statustext(3, "Operation timeout")
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
        import time

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

    def _validate(self, item: MissionItem) -> MissionResult:
        if item.frame not in ACCEPTED_FRAMES:
            return MissionResult.UNSUPPORTED_FRAME
        if self._type is MissionType.MISSION:
            if item.command in FENCE_COMMANDS or item.command in RALLY_COMMANDS:
                return MissionResult.ERROR
            if item.command not in MISSION_COMMANDS:
                return MissionResult.UNSUPPORTED
        elif self._type is MissionType.FENCE:
            if item.command not in FENCE_COMMANDS:
                return MissionResult.UNSUPPORTED
            if item.command in (5003, 5004) and not (
                math.isfinite(item.param1) and item.param1 >= 0
            ):
                return MissionResult.INVALID
        elif item.command not in RALLY_COMMANDS:
            return MissionResult.UNSUPPORTED
        return MissionResult.ACCEPTED

    def _on_item(self, link: Link, msg: Any) -> None:
        import time

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
                "%s: ignoring item %d (awaiting %d)", self.v.name, msg.seq, len(self._items)
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
        result = self._validate(item)
        if result is not MissionResult.ACCEPTED:
            logger.info("%s: mission item %d refused: %s", self.v.name, msg.seq, result.name)
            self._ack(link, partner, result, self._type)
            self._set_state(TransferState.IDLE)
            return
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
            self.v.statustext(3, f"Geofence: {exc}"[:50])
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
                self.v.frame,
            )
            self.v.commander.set_geofence(fence)
        self.plans[mtype] = list(items)
        self.ids[mtype] = plan_id(self.plans[mtype])
        if mtype is MissionType.MISSION:
            self.v.navigator.set_mission(items, self.ids[mtype])
        elif fence is not None:
            # mavlink_mission.cpp update_geofence_count: a new geofence_id for the navigator,
            # which reloads the fence and checks the mission again
            self.v.navigator.on_fence_uploaded(fence, self.ids[mtype])
        logger.info("%s: %s plan stored: %d items", self.v.name, mtype.name.lower(), len(items))

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
        if msg.get_type() == "MISSION_REQUEST_INT":
            out = link.mav.mission_item_int_encode(
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
                it.x,
                it.y,
                it.z,
                mtype,
            )
        else:
            out = link.mav.mission_item_encode(
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
                it.x / 1e7,
                it.y / 1e7,
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
        if not self.v.navigator.set_current(msg.seq):
            self.v.statustext(3, "WPM: WP CURR CMD: Not in list")
