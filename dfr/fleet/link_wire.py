"""The messages between the service and its link workers: one JSON object per line.

Worker → service (``k``): ``hello`` (the worker is up), ``state`` (a drone's whole
:class:`DroneState` as a list in field order, time as Unix seconds), ``text`` (a
STATUSTEXT), ``progress``, ``limits``, ``warning``, ``reply`` (a command's outcome: ``ok``,
or ``error`` with the exception's kind and fields).

Service → worker: ``call`` (``id``, drone ``d``, method ``m``, arguments ``a``; mission
items as lists of MISSION_ITEM_INT fields).

Floats may be NaN or infinite (an unknown position, a real vehicle's unbounded airframe
speed); Python's json writes and reads them as ``NaN``/``Infinity``, and both ends are
this module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import astuple, fields
from datetime import UTC, datetime
from typing import Any

from dfr.errors import CommandError, CommandTimeout, DfrError, LinkError
from dfr.fleet.drone_state import DroneState, LandedState, LinkState
from dfr.fleet.link_types import LinkWarning
from dfr.fleet.mission_encoding import MissionItemLike, RawItem
from dfr.planning.vehicle_limits import VehicleLimits

JSON = dict[str, Any]

_STATE_FIELDS = tuple(f.name for f in fields(DroneState))
_ITEM_FIELDS = tuple(f.name for f in fields(RawItem))
# the link commands a worker runs for the service (the VehicleLink methods)
COMMANDS = frozenset(
    {
        "arm",
        "takeoff",
        "hold",
        "return_to_launch",
        "disarm",
        "land",
        "set_speed",
        "upload_mission",
        "upload_geofence",
        "start_mission",
        "reposition",
        "orbit",
    }
)
MISSION_COMMANDS = frozenset({"upload_mission", "upload_geofence"})


def line(message: JSON) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def parse(raw: bytes) -> JSON:
    message = json.loads(raw)
    if not isinstance(message, dict):
        raise ValueError(f"not a message: {raw[:80]!r}")
    return message


def _unix_s(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def _utc(unix_s: float | None) -> datetime | None:
    return None if unix_s is None else datetime.fromtimestamp(unix_s, UTC)


def state_out(state: DroneState) -> list[Any]:
    values = list(astuple(state))
    values[_STATE_FIELDS.index("updated_at")] = _unix_s(state.updated_at)
    return values


def state_in(values: Sequence[Any]) -> DroneState:
    by_name = dict(zip(_STATE_FIELDS, values, strict=True))
    by_name["link"] = LinkState(by_name["link"])
    by_name["landed"] = LandedState(by_name["landed"])
    by_name["updated_at"] = _utc(by_name["updated_at"])
    return DroneState(**by_name)


def warning_out(warning: LinkWarning) -> JSON:
    return {
        "kind": warning.kind,
        "message": warning.message,
        "action": warning.action,
        "sysid": warning.sysid,
        "at": warning.at.timestamp(),
    }


def warning_in(body: JSON) -> LinkWarning:
    at = _utc(body["at"])
    assert at is not None
    return LinkWarning(body["kind"], body["message"], body["action"], body["sysid"], at)


def limits_out(limits: VehicleLimits) -> JSON:
    return {f.name: getattr(limits, f.name) for f in fields(VehicleLimits)}


def limits_in(body: JSON) -> VehicleLimits:
    return VehicleLimits(**body)


def items_out(items: Sequence[MissionItemLike]) -> list[list[Any]]:
    return [[getattr(item, name) for name in _ITEM_FIELDS] for item in items]


def items_in(rows: Sequence[Sequence[Any]]) -> list[RawItem]:
    return [RawItem(*row) for row in rows]


def error_out(exc: BaseException) -> JSON:
    """A command's failure as the service should raise it again."""
    if isinstance(exc, CommandError):
        kind = "timeout" if isinstance(exc, CommandTimeout) else "command"
        return {
            "kind": kind,
            "drone_id": exc.drone_id,
            "command": exc.command,
            "result": exc.result,
            "message": exc.detail,
        }
    if isinstance(exc, LinkError):
        return {"kind": "link", "drone_id": exc.drone_id, "message": str(exc)}
    return {"kind": "other", "message": f"{type(exc).__name__}: {exc}"}


def error_in(body: JSON, drone_id: str) -> DfrError:
    kind = body.get("kind")
    if kind in ("command", "timeout"):
        cls = CommandTimeout if kind == "timeout" else CommandError
        return cls(body["drone_id"], body["command"], body["result"], body.get("message", ""))
    if kind == "link":
        prefix = f"{body['drone_id']}: "
        text = str(body["message"])
        return LinkError(body["drone_id"], text.removeprefix(prefix))
    return LinkError(drone_id, f"link worker: {body.get('message', 'failed')}")
