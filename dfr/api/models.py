"""Request bodies of the HTTP API (pydantic lives at the edges only); the response bodies
are in :mod:`dfr.api.schemas`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    RootModel,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails

from dfr.fleet.command_kinds import (
    PILOT_COMMAND_TYPES,
    Altitude,
    CommandType,
    Goto,
    Hold,
    Land,
    Orbit,
    PilotCommand,
    Return,
)

# Request bodies refuse inf and NaN (Python's JSON reader takes ``Infinity``, ``NaN`` and
# ``1e400``; no JSON answer could carry them back), naming the field, before anything runs;
# and take each field as its JSON type only: "1" is not a priority, 1 is not true (strict;
# an integer is still a number where a float is asked for).
STRICT_INPUT = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class LocationIn(BaseModel):
    model_config = STRICT_INPUT
    lat: Annotated[float, Field(ge=-90, le=90, description="latitude, degrees WGS84")]
    lon: Annotated[float, Field(ge=-180, le=180, description="longitude, degrees WGS84")]


class UnitIn(BaseModel):
    """A responding unit (an officer's car, a crew) as the CAD reports it with a call."""

    model_config = STRICT_INPUT
    id: Annotated[str, Field(min_length=1, max_length=64, description="the CAD's unit name")]
    dispatched_at: AwareDatetime | None = Field(
        None, strict=False, description="when the unit was sent, ISO 8601 with a time zone"
    )
    arrived_at: AwareDatetime | None = Field(
        None, strict=False, description="when it arrived on scene, ISO 8601 with a time zone"
    )

    @model_validator(mode="after")
    def _arrives_after_dispatch(self) -> UnitIn:
        if self.dispatched_at and self.arrived_at and self.arrived_at < self.dispatched_at:
            raise ValueError(f"unit {self.id} arrived_at is before its dispatched_at")
        return self


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
    # JSON has no time type: an ISO 8601 string is the strict form of one
    received_at: AwareDatetime | None = Field(
        None, strict=False, description="ISO 8601 with a time zone"
    )
    notes: Annotated[str, Field(max_length=10_000)] = ""
    cancelled: bool = False
    units: Annotated[list[UnitIn], Field(max_length=200)] = Field(
        default_factory=list,
        description="the responding units and their times; sent again with an arrival "
        "time, it updates the incident (a time left out keeps the one stored)",
    )


class LaunchIn(BaseModel):
    model_config = STRICT_INPUT
    drone_id: str | None = Field(None, description="launch this drone instead of the best one")
    divert: bool = Field(
        False,
        description="take drone_id from the flight it is on (only for a more urgent call): "
        "it flies here from where it is and its old call is dispatched again",
    )


class DockHoldIn(BaseModel):
    """A supervisor puts a dock on hold: its drones take no call until it is lifted."""

    model_config = STRICT_INPUT
    reason: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            pattern=r"\S",
            description="why, as the pilots will read it: 'lightning within 10 km'",
        ),
    ]


class _CommandBody(BaseModel):
    model_config = STRICT_INPUT


class OrbitIn(_CommandBody):
    """``orbit``: circle a point (nose to the centre); what is left out is the site's."""

    type: Literal["orbit"]
    lat: float = Field(description="the centre's latitude, degrees WGS84")
    lon: float = Field(description="the centre's longitude, degrees WGS84")
    alt_rel_m: float | None = Field(
        None, description="altitude above the dock, 5-120 m; default the cruise altitude"
    )
    radius_m: float | None = Field(None, description="10-1000 m; default the site's")
    speed_mps: float | None = Field(None, description="0.5-20 m/s; default the site's")

    def command(self) -> Orbit:
        return Orbit(self.lat, self.lon, self.alt_rel_m, self.radius_m, self.speed_mps)


class GotoIn(_CommandBody):
    """``goto``: fly to a point (along a legal route when the straight way is not) and
    hold there."""

    type: Literal["goto"]
    lat: float = Field(description="latitude, degrees WGS84")
    lon: float = Field(description="longitude, degrees WGS84")
    alt_rel_m: float | None = Field(
        None, description="altitude above the dock, 5-120 m; default the cruise altitude"
    )

    def command(self) -> Goto:
        return Goto(self.lat, self.lon, self.alt_rel_m)


class AltitudeIn(_CommandBody):
    """``altitude``: change height, carrying on with what the drone was doing."""

    type: Literal["altitude"]
    alt_rel_m: float = Field(description="altitude above the dock, 5-120 m")

    def command(self) -> Altitude:
        return Altitude(self.alt_rel_m)


class HoldIn(_CommandBody):
    """``hold``: stop and hover where it is."""

    type: Literal["hold"]

    def command(self) -> Hold:
        return Hold()


class ReturnIn(_CommandBody):
    """``return``: go home along the legal route and land on the dock."""

    type: Literal["return"]
    reason: str | None = Field(None, description="kept with the command and the phase change")

    def command(self) -> Return:
        return Return(self.reason)


class LandIn(_CommandBody):
    """``land``: land where it is."""

    type: Literal["land"]

    def command(self) -> Land:
        return Land()


CommandKindIn = OrbitIn | GotoIn | AltitudeIn | HoldIn | ReturnIn | LandIn


class _CommandType(BaseModel):
    """Only the ``type`` of a command body: what an unknown or missing one is told."""

    type: CommandType


class CommandIn(RootModel[Annotated[CommandKindIn, Field(discriminator="type")]]):
    """A pilot command, one body per ``type``: ``orbit`` (lat, lon, radius_m?, speed_mps?,
    alt_rel_m?), ``goto`` (lat, lon, alt_rel_m?), ``altitude`` (alt_rel_m), ``hold``,
    ``return`` (reason?), ``land``.

    A problem is named by its field as in any other body (``alt_rel_m``, ``type``), not
    by the kind pydantic chose (``altitude.alt_rel_m``)."""

    @model_validator(mode="wrap")
    @classmethod
    def _fields_by_their_names(cls, value: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        if isinstance(value, dict):
            _CommandType.model_validate(value)
        try:
            return handler(value)
        except ValidationError as exc:
            raise ValidationError.from_exception_data(
                exc.title, [_without_kind(error) for error in exc.errors()]
            ) from None

    def command(self) -> PilotCommand:
        return self.root.command()


def _without_kind(error: ErrorDetails) -> InitErrorDetails:
    """``error`` at its field's place in the body (the union's tag taken out of ``loc``)."""
    loc = error["loc"]
    details = InitErrorDetails(
        type=error["type"],
        loc=loc[1:] if loc and loc[0] in PILOT_COMMAND_TYPES else loc,
        input=error["input"],
    )
    if "ctx" in error:
        details["ctx"] = error["ctx"]
    return details
