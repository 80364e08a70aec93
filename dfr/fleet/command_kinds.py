"""The commands dfr sends a flying drone, one frozen value per kind.

The pilot's kinds — :class:`Orbit`, :class:`Goto`, :class:`Altitude`, :class:`Hold`,
:class:`Return`, :class:`Land` — form :data:`PilotCommand`, a union discriminated on
``type`` (the HTTP body's ``type``; :mod:`dfr.api.models` parses a body into one).
dfr sends the same kinds by itself (the arrival orbit, the return home when the
on-scene time is up or the battery reserve is reached) and two of its own,
:class:`Launch` and :class:`Divert`: together :data:`Command`, which is what
:func:`dfr.fleet.commands.execute` records, whoever issued it.

A value holds what was asked, nothing resolved yet: ``None`` means "the site's
default" (cruise altitude, orbit radius and speed), filled in when the command is
prepared (:mod:`dfr.fleet.pilot_commands`). :meth:`params` gives what the command record
keeps, under the HTTP body's names, leaving out what was not given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Orbit:
    """Circle a point, nose to the centre."""

    type: ClassVar[Literal["orbit"]] = "orbit"
    lat_deg: float
    lon_deg: float
    alt_rel_m: float | None = None  # above the dock; None: the site's cruise altitude
    radius_m: float | None = None  # None: the site's orbit radius
    speed_mps: float | None = None  # None: the site's orbit speed

    def params(self) -> dict[str, Any]:
        return _given(
            lat=self.lat_deg,
            lon=self.lon_deg,
            alt_rel_m=self.alt_rel_m,
            radius_m=self.radius_m,
            speed_mps=self.speed_mps,
        )


@dataclass(frozen=True, slots=True)
class Goto:
    """Fly to a point (along a legal route when the straight way is not) and hold there."""

    type: ClassVar[Literal["goto"]] = "goto"
    lat_deg: float
    lon_deg: float
    alt_rel_m: float | None = None  # above the dock; None: the site's cruise altitude

    def params(self) -> dict[str, Any]:
        return _given(lat=self.lat_deg, lon=self.lon_deg, alt_rel_m=self.alt_rel_m)


@dataclass(frozen=True, slots=True)
class Altitude:
    """Change height, carrying on with what the drone was doing."""

    type: ClassVar[Literal["altitude"]] = "altitude"
    alt_rel_m: float  # above the dock

    def params(self) -> dict[str, Any]:
        return {"alt_rel_m": self.alt_rel_m}


@dataclass(frozen=True, slots=True)
class Hold:
    """Stop and hover where it is."""

    type: ClassVar[Literal["hold"]] = "hold"

    def params(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Return:
    """Go home along the legal route and land on the dock."""

    type: ClassVar[Literal["return"]] = "return"
    reason: str | None = None

    def params(self) -> dict[str, Any]:
        return _given(reason=self.reason)


@dataclass(frozen=True, slots=True)
class Land:
    """Land where it is."""

    type: ClassVar[Literal["land"]] = "land"

    def params(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Launch:
    """dfr's own: arm and start the uploaded mission (its first item is the takeoff)."""

    type: ClassVar[Literal["launch"]] = "launch"
    mission_items: int

    def params(self) -> dict[str, Any]:
        return {"mission_items": self.mission_items}


@dataclass(frozen=True, slots=True)
class Divert:
    """dfr's own: fly a drone already in the air to another call's scene."""

    type: ClassVar[Literal["divert"]] = "divert"
    incident_id: str
    lat_deg: float
    lon_deg: float

    def params(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id, "lat": self.lat_deg, "lon": self.lon_deg}


PilotCommand = Orbit | Goto | Altitude | Hold | Return | Land
Command = PilotCommand | Launch | Divert
# the pilot's kinds as the HTTP body's ``type`` names them, in the order errors list them
CommandType = Literal["orbit", "goto", "altitude", "hold", "return", "land"]
PILOT_COMMAND_TYPES: tuple[str, ...] = get_args(CommandType)
