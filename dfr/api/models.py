"""Request bodies of the HTTP API (pydantic lives at the edges only); the response bodies
are in :mod:`dfr.api.schemas`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Request bodies refuse inf and NaN (Python's JSON reader takes ``Infinity``, ``NaN`` and
# ``1e400``; no JSON answer could carry them back), naming the field, before anything runs.
STRICT_INPUT = ConfigDict(extra="forbid", allow_inf_nan=False)


class LocationIn(BaseModel):
    model_config = STRICT_INPUT
    lat: Annotated[float, Field(ge=-90, le=90, description="latitude, degrees WGS84")]
    lon: Annotated[float, Field(ge=-180, le=180, description="longitude, degrees WGS84")]


class CallIn(BaseModel):
    """A CAD call in dfr's own JSON."""

    model_config = STRICT_INPUT
    cad_id: Annotated[
        str, Field(min_length=1, max_length=128, description="the CAD's id; idempotency key")
    ]
    nature: Annotated[str, Field(min_length=1, max_length=200)]
    priority: Annotated[int, Field(ge=1, le=5, description="1 = most urgent … 5")]
    location: LocationIn
    address: Annotated[str, Field(max_length=500)] = ""
    received_at: AwareDatetime | None = Field(None, description="ISO 8601 with a time zone")
    notes: Annotated[str, Field(max_length=10_000)] = ""
    cancelled: bool = False


class LaunchIn(BaseModel):
    model_config = STRICT_INPUT
    drone_id: str | None = Field(None, description="launch this drone instead of the best one")
    divert: bool = Field(
        False,
        description="take drone_id from the flight it is on (only for a more urgent call): "
        "it flies here from where it is and its old call is dispatched again",
    )


class CommandIn(BaseModel):
    """A pilot command. ``orbit``: lat, lon, radius_m?, speed_mps?, alt_rel_m?; ``goto``:
    lat, lon, alt_rel_m?; ``altitude``: alt_rel_m; ``hold``, ``return``, ``land``: nothing."""

    model_config = STRICT_INPUT
    type: Literal["orbit", "goto", "altitude", "hold", "return", "land"]
    lat: float | None = None
    lon: float | None = None
    alt_rel_m: float | None = Field(None, description="altitude above the dock")
    radius_m: float | None = None
    speed_mps: float | None = None
    reason: str | None = None
