"""Officer viewer links: a pilot shares one drone or flight; the officer's phone opens it.

- ``POST /api/v1/viewer-links`` (pilot): a link that expires (the site's policy), its
  text shown once in the answer's ``url``;
- ``GET /api/v1/viewer-links`` (supervisor): every link, who made it, whether it holds;
- ``DELETE /api/v1/viewer-links/{id}`` (pilot): revoked at once, its sockets closed;
- ``POST /api/v1/viewer-links/open`` (the link as bearer): the page opens the link from
  its URL fragment; the answer sets the ``dfr_view_<id>`` cookie (HttpOnly,
  SameSite=Strict) the page's sockets then carry, and says what the link shows;
- ``GET /api/v1/viewer-link?view=<id>``: what it shows now (the drone's call may change).

Creation, each opening (address, user agent) and revocation go into the audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from dfr.api.access import (
    Authed,
    LinkViewer,
    bearer_from_header,
    officer_if_needed,
    service_of,
    view_cookie_name,
)
from dfr.api.request_audit import audit_request
from dfr.api.schemas.fleet import MapOut
from dfr.api.schemas.viewer_links import (
    CallSummaryOut,
    ViewerLinkCreatedOut,
    ViewerLinkIn,
    ViewerLinkOut,
    ViewerLinkViewOut,
)
from dfr.auth.tokens import Role, require_role
from dfr.auth.viewer_links import ViewerLink, link_id_of, looks_like_link
from dfr.errors import AccessDenied, NotFound

if TYPE_CHECKING:
    from dfr.service import Service

router = APIRouter(prefix="/api/v1", tags=["viewer links"])

VIEW_PAGE = "/view.html"
COOKIE_GRACE = timedelta(hours=1)


@router.post("/viewer-links", status_code=201)
async def create_link(body: ViewerLinkIn, request: Request, who: Authed) -> ViewerLinkCreatedOut:
    """Share one drone or one flight with an officer: the answer's ``url`` is the link."""
    require_role(who, Role.PILOT, "sharing a viewer link")
    service = service_of(request)
    flight = None
    if body.flight_id is not None:
        flight = await service.store.get_flight(body.flight_id)
        if flight is None:
            raise NotFound(f"flight {body.flight_id} does not exist")
    elif body.drone_id not in service.drones:
        raise NotFound(
            f"drone {body.drone_id} does not exist (drones: {', '.join(service.drones)})"
        )
    now = datetime.now(UTC)
    text, link = await service.viewer_links.create(
        drone_id=body.drone_id or "",
        flight=flight,
        created_by=who.name,
        now=now,
        ttl=None if body.ttl_s is None else timedelta(seconds=body.ttl_s),
        label=body.label,
    )
    audit_request(
        request,
        actor=who.name,
        action="viewer_link_created",
        outcome="ok",
        target=f"link:{link.id}",
        detail={
            "drone_id": link.drone_id,
            "flight_id": link.flight_id,
            "label": link.label,
            "expires_at": link.expires_at.isoformat(),
        },
    )
    return ViewerLinkCreatedOut(link=ViewerLinkOut.of(link, now), url=f"{VIEW_PAGE}#link={text}")


@router.get("/viewer-links")
async def list_links(request: Request, who: Authed) -> list[ViewerLinkOut]:
    """Every viewer link, newest first (none of their texts: those were shown once)."""
    require_role(who, Role.PILOT, "listing viewer links")
    now = datetime.now(UTC)
    links = await service_of(request).viewer_links.listed()
    return [ViewerLinkOut.of(link, now) for link in reversed(links)]


@router.delete("/viewer-links/{link_id}")
async def revoke_link(link_id: str, request: Request, who: Authed) -> ViewerLinkOut:
    """Revoke a link now: its page says it has expired and its video closes."""
    require_role(who, Role.PILOT, "revoking a viewer link")
    now = datetime.now(UTC)
    link = await service_of(request).viewer_links.revoke(link_id, who.name, now)
    audit_request(
        request,
        actor=who.name,
        action="viewer_link_revoked",
        outcome="ok",
        target=f"link:{link.id}",
        detail={"drone_id": link.drone_id, "created_by": link.created_by},
    )
    return ViewerLinkOut.of(link, now)


@router.post("/viewer-links/open")
async def open_link(request: Request, response: Response) -> ViewerLinkViewOut:
    """The viewer page opens its link (``Authorization: Bearer dfrv_…``, from the URL
    fragment): the ``dfr_view_<id>`` cookie is set for the page's sockets. Where the
    site's policy says so, the officer must be signed in too."""
    service = service_of(request)
    token = bearer_from_header(request.headers.get("authorization")) or ""
    try:
        if not looks_like_link(token):
            raise AccessDenied(
                "open a viewer link with its own text: 'Authorization: Bearer dfrv_…'",
                authenticated=False,
            )
        link = await service.viewer_links.check(token, datetime.now(UTC))
        person = await officer_if_needed(request)
    except AccessDenied as exc:
        audit_request(
            request,
            actor="anonymous",
            action="viewer_link_opened",
            outcome="refused",
            target=f"link:{link_id_of(token) or '?'}",
            detail={"reason": str(exc)},
        )
        raise
    audit_request(
        request,
        actor=person.name if person else f"link:{link.id}",
        action="viewer_link_opened",
        outcome="ok",
        target=f"link:{link.id}",
        detail={"drone_id": link.drone_id, "created_by": link.created_by},
    )
    response.set_cookie(
        view_cookie_name(link.id),
        token,
        # outlives the link a while, so its page is told "expired" rather than "not open"
        max_age=int((link.expires_at - datetime.now(UTC) + COOKIE_GRACE).total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return await _view(service, link)


@router.get("/viewer-link")
async def link_view(request: Request, who: LinkViewer) -> ViewerLinkViewOut:
    """What the link shows now: its drone, the call it flies to (nature and address),
    the airspace; 401 saying why once the link is revoked, expired or its flight over."""
    service = service_of(request)
    link_id = who.name.removeprefix("link:")
    link = await service.store.viewer_link(link_id)
    if link is None:  # authenticated a moment ago: only a wiped store gets here
        raise AccessDenied("unknown viewer link", authenticated=False)
    return await _view(service, link)


async def _view(service: Service, link: ViewerLink) -> ViewerLinkViewOut:
    flight_id = link.flight_id
    if flight_id is None:
        flight_id = service.owners.flight_id_of(link.drone_id)
    call = None
    if flight_id is not None:
        flight = await service.store.get_flight(flight_id)
        incident = (
            await service.store.get_incident(flight.incident_id)
            if flight is not None and flight.incident_id
            else None
        )
        if incident is not None:
            call = CallSummaryOut(
                nature=incident.nature,
                priority=incident.priority,
                address=incident.address,
                lat=incident.lat_deg,
                lon=incident.lon_deg,
            )
    settings = service.settings
    return ViewerLinkViewOut(
        id=link.id,
        drone_id=link.drone_id,
        flight_id=flight_id,
        label=link.label,
        created_by=link.created_by,
        expires_at=link.expires_at,
        call=call,
        airspace=service.planner.airspace_geojson(),
        map=MapOut(tile_url=settings.map_tile_url, attribution=settings.map_tile_attribution),
    )
