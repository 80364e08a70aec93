"""One flight in the air as :class:`~dfr.fleet.sorties.Sorties` keeps it: its record as
last written, its state machine, its planned route in the local frame, the alerts it has
raised (each kind once until it clears) and its track samples not yet written."""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry import LineString

from dfr.fleet.flight import Flight
from dfr.records import Flight as FlightRecord
from dfr.records import TrackPoint


@dataclass(slots=True, eq=False)
class ActiveFlight:
    record: FlightRecord
    flight: Flight
    route_xy: LineString
    raised: set[str] = field(default_factory=set)
    track: list[TrackPoint] = field(default_factory=list)
