"""What a vehicle's behaviour modules send through it, as narrow protocols.

The commander, navigator, failsafes and mission protocol do not know the
:class:`~sitl.vehicle.Vehicle`; they are handed an object with just the sending they
need (the vehicle is that object). The command handlers' wider needs are in
:mod:`sitl.commands`.
"""

from __future__ import annotations

from typing import Protocol

# MAV_SEVERITY
SEV_EMERGENCY = 0
SEV_ALERT = 1
SEV_CRITICAL = 2
SEV_ERROR = 3
SEV_WARNING = 4
SEV_NOTICE = 5
SEV_INFO = 6


class StatusText(Protocol):
    def statustext(self, severity: int, text: str) -> None:
        """A STATUSTEXT on every link (PX4's mavlink_log)."""


class Outbox(StatusText, Protocol):
    def send_all(self, msg_id: int) -> None:
        """Build message ``msg_id`` (a telemetry encoder) and send it on every link."""

    def mission_item_reached(self, seq: int) -> None:
        """MISSION_ITEM_REACHED on every link, repeated as PX4 does."""
