"""Officer viewer links: what a pilot asks for, what the console lists, and what the
link's own page (``/view.html#link=…``) is shown — the call's nature and address, never
its notes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from dfr.api.models import STRICT_INPUT
from dfr.api.schemas.common import BodyOut
from dfr.api.schemas.fleet import MapOut
from dfr.auth.viewer_links import LABEL_MAX_CHARS, ViewerLink


class ViewerLinkIn(BaseModel):
    """Share one drone (whatever it flies) or one flight (the link ends with it)."""

    model_config = STRICT_INPUT
    drone_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    flight_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    ttl_s: Annotated[float, Field(gt=0, le=86400)] | None = Field(
        None, description="lifetime in seconds; the site's viewer_link_ttl_s when left out"
    )
    label: Annotated[str, Field(max_length=LABEL_MAX_CHARS)] = Field(
        "", description="for whom, e.g. 'Unit 4B' (shown in the console's list)"
    )

    @model_validator(mode="after")
    def _one_object(self) -> ViewerLinkIn:
        if (self.drone_id is None) == (self.flight_id is None):
            raise ValueError("give exactly one of drone_id and flight_id")
        return self


class ViewerLinkOut(BodyOut):
    id: str
    drone_id: str
    flight_id: str | None
    label: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    active: bool = Field(description="neither revoked nor expired")

    @classmethod
    def of(cls, link: ViewerLink, now: datetime) -> ViewerLinkOut:
        return cls(
            id=link.id,
            drone_id=link.drone_id,
            flight_id=link.flight_id,
            label=link.label,
            created_at=link.created_at,
            created_by=link.created_by,
            expires_at=link.expires_at,
            revoked_at=link.revoked_at,
            revoked_by=link.revoked_by,
            active=link.active(now),
        )


class ViewerLinkCreatedOut(BodyOut):
    link: ViewerLinkOut
    url: str = Field(
        description="the link to send (a path on this service): shown once, never stored"
    )


class CallSummaryOut(BodyOut):
    """What an officer is shown of a call: never its notes."""

    nature: str
    priority: int
    address: str
    lat: float
    lon: float


class ViewerLinkViewOut(BodyOut):
    id: str
    drone_id: str
    flight_id: str | None = Field(description="the flight shown now (the link's, or the drone's)")
    label: str
    created_by: str
    expires_at: datetime
    call: CallSummaryOut | None = Field(description="the call the drone is flying to, if any")
    airspace: dict[str, Any] = Field(description="the site's zones, GeoJSON (GET /airspace)")
    map: MapOut
