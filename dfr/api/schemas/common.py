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
