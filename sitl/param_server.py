"""The parameter protocol, vehicle side (PX4 ``mavlink_parameters.cpp``).

PARAM_REQUEST_LIST sends every parameter and then ``_HASH_CHECK`` (the table's CRC);
PARAM_REQUEST_READ answers by index or name; PARAM_SET stores the value and answers with
PARAM_VALUE on every link. PX4 also announces every changed parameter once more from its
parameter-update loop: :meth:`ParamServer.announce_changed` does that on the next tick.
"""

from __future__ import annotations

import logging
from typing import Any

from sitl.link import Link
from sitl.outbox import SEV_ERROR, StatusText
from sitl.params import HASH_CHECK_INDEX, HASH_CHECK_NAME, decode_param_id, int_to_wire
from sitl.state import VehicleState

logger = logging.getLogger(__name__)


class ParamServer:
    def __init__(self, state: VehicleState, out: StatusText, links: tuple[Link, ...]) -> None:
        self.s = state
        self.params = state.params
        self.out = out
        self.links = links
        self._changed: list[str] = []

    def _value_msg(self, link: Link, name: str) -> Any:
        value, ptype = self.params.wire_value(name)
        return link.mav.param_value_encode(
            name.encode("ascii"), value, int(ptype), len(self.params), self.params.index_of(name)
        )

    def _hash_check_msg(self, link: Link) -> Any:
        crc = self.params.hash_check()
        signed = crc - (1 << 32) if crc >= (1 << 31) else crc
        return link.mav.param_value_encode(
            HASH_CHECK_NAME.encode("ascii"),
            int_to_wire(signed),
            6,
            len(self.params),
            HASH_CHECK_INDEX,
        )

    def send_all(self, link: Link) -> None:
        """PARAM_REQUEST_LIST."""
        for name in self.params.names():
            link.send(self._value_msg(link, name))
        link.send(self._hash_check_msg(link))

    def read(self, link: Link, msg: Any) -> None:
        """PARAM_REQUEST_READ."""
        if msg.param_index >= 0:
            if msg.param_index == HASH_CHECK_INDEX:
                link.send(self._hash_check_msg(link))
                return
            name = self.params.name_at(msg.param_index)
        else:
            name = decode_param_id(msg.param_id)
            if name == HASH_CHECK_NAME:
                link.send(self._hash_check_msg(link))
                return
        if name is None or name not in self.params:
            logger.debug(
                "%s: no parameter %r / index %d", self.s.name, msg.param_id, msg.param_index
            )
            return
        link.send(self._value_msg(link, name))

    def set(self, msg: Any) -> None:
        """PARAM_SET."""
        name = decode_param_id(msg.param_id)
        if name not in self.params:
            self.out.statustext(SEV_ERROR, f"Parameter {name} not found")
            return
        try:
            self.params.set_from_wire(name, msg.param_value, msg.param_type)
        except ValueError as exc:
            self.out.statustext(SEV_ERROR, f"Parameter {name}: {exc}"[:50])
        if name == "MPC_XY_VEL_MAX":
            self.s.motion.max_air_mps = self.params.get_float(name)
        for link in self.links:
            link.send(self._value_msg(link, name))
        # PX4 also announces every changed parameter once more from its parameter-update
        # loop; MAVSDK's param subscriptions (e.g. the Failure plugin's SYS_FAILURE_EN) are
        # fed by PARAM_VALUEs that do not answer its own PARAM_SET.
        self._changed.append(name)

    def announce_changed(self) -> None:
        """Per tick: one more PARAM_VALUE for each parameter set since the last tick."""
        if self._changed:
            names, self._changed = self._changed, []
            for name in dict.fromkeys(names):
                for link in self.links:
                    link.send(self._value_msg(link, name))
