"""What every schema shares: the strict base, and the error body."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BodyOut(BaseModel):
    """A response body: exactly these fields (a handler that returns more fails)."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(BodyOut):
    """Every error: what kind, what was wrong, and the input field when one was."""

    error: str = Field(description="the error's kind, e.g. InvalidInput, NotFound")
    detail: str = Field(description="what was wrong, in words a person can act on")
    field: str | None = None


class ProblemOut(BodyOut):
    field: str = Field(description="where in the request, e.g. location.lat")
    problem: str


class InvalidInputOut(BodyOut):
    """A request dfr cannot take: ``field`` names the one wrong input (the call, the plan),
    or ``problems`` lists every field of a body that does not validate."""

    error: str = Field(description="InvalidInput, or PlanningError for a plan the airspace refuses")
    detail: str
    field: str | None = None
    problems: list[ProblemOut] | None = None
