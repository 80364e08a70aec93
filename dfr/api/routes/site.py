"""The site and the caller: who I am, the site's policy, its airspace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from dfr.api.access import Authed, service_of
from dfr.api.schemas import AirspaceOut, MapOut, MeOut, SiteOut

router = APIRouter(prefix="/api/v1", tags=["site"])


@router.get("/me")
async def me(who: Authed) -> MeOut:
    """Who this token is, and its role (the console shows pilot controls by it)."""
    return MeOut(name=who.name, role=who.role.label)


@router.get("/site")
async def site_info(request: Request, who: Authed) -> SiteOut:
    """The site's name, time zone and policy, and how the map draws its background."""
    service = service_of(request)
    site, settings = service.site, service.settings
    return SiteOut(
        name=site.name,
        timezone=site.data.timezone,
        policy=site.policy,
        map=MapOut(tile_url=settings.map_tile_url, attribution=settings.map_tile_attribution),
    )


# exclude_unset: a zone's optional properties (active_windows, radius_m) are absent, not
# null, when the zone has none
@router.get("/airspace", response_model=AirspaceOut, response_model_exclude_unset=True)
async def airspace(request: Request, who: Authed) -> dict[str, Any]:
    """Every zone of the site as GeoJSON, with ``active`` flags for time-windowed zones."""
    return service_of(request).planner.airspace_geojson()
