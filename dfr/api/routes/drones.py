"""The fleet: drones (telemetry and figures), their snapshots, and the docks (with a
supervisor's hold on one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Request, Response

from dfr.api.access import Authed, service_of
from dfr.api.models import DockHoldIn
from dfr.api.request_audit import audit_request
from dfr.api.schemas import DockHoldOut, DockOut, DroneOut
from dfr.api.schemas.fleet import LinkWarningOut, LinkWorkerOut
from dfr.auth.tokens import Role, require_role
from dfr.errors import NotFound
from dfr.planning.vehicle_limits import disagreements
from dfr.site import Dock
from dfr.timestamps import iso_utc

if TYPE_CHECKING:
    from dfr.service import Service

router = APIRouter(prefix="/api/v1", tags=["fleet"])


def drone_out(service: Service, drone_id: str) -> DroneOut:
    link = service.links[drone_id]
    drone = service.drones[drone_id]
    limits = link.limits
    body = service.position_message(link.state)
    body.pop("type")
    return DroneOut(
        **body,
        id=drone_id,
        dock_id=drone.dock,
        performance=drone.performance,
        # what the vehicle's own parameters allow, and the figures ETAs are planned with
        vehicle_limits=limits,
        planned_performance=service.planner.performance_of(drone),
        limits_disagreements=disagreements(drone.performance, limits) if limits else [],
        sysid=link.sysid,
        link_warnings=[
            LinkWarningOut(
                kind=w.kind, sysid=w.sysid, message=w.message, action=w.action, t=iso_utc(w.at)
            )
            for w in link.link_warnings
        ],
        link_worker=_worker_of(service, drone_id),
    )


def _worker_of(service: Service, drone_id: str) -> LinkWorkerOut | None:
    for worker in service.link_workers:
        if drone_id in worker.links:
            return LinkWorkerOut(index=worker.index, pid=worker.pid, starts=worker.starts)
    return None


@router.get("/drones")
async def list_drones(request: Request, who: Authed) -> list[DroneOut]:
    service = service_of(request)
    return [drone_out(service, drone_id) for drone_id in service.links]


@router.get("/drones/{drone_id}")
async def get_drone(drone_id: str, request: Request, who: Authed) -> DroneOut:
    service = service_of(request)
    if drone_id not in service.links:
        raise NotFound(f"drone {drone_id} does not exist (drones: {', '.join(service.links)})")
    return drone_out(service, drone_id)


@router.get(
    "/drones/{drone_id}/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "a JPEG image"}},
)
async def snapshot(drone_id: str, request: Request, who: Authed) -> Response:
    """A JPEG of the drone's latest video keyframe."""
    video = service_of(request).videos.get(drone_id)
    if video is None:
        raise NotFound(f"drone {drone_id} has no video")
    return Response(await video.snapshot_jpeg(), media_type="image/jpeg")


def dock_out(service: Service, dock: Dock) -> DockOut:
    drones = [dr for dr in service.site.drones if dr.dock == dock.id]
    away = [dr.id for dr in drones if service.owners.flight_id_of(dr.id) is not None]
    wind_hold = any(service.wind.speed_mps > dr.performance.max_wind_mps for dr in drones)
    hold = service.dock_holds.current.get(dock.id)
    state: Literal["ready", "drone_away", "weather_hold", "on_hold"] = "ready"
    if hold is not None:
        state = "on_hold"
    elif wind_hold:
        state = "weather_hold"
    elif away:
        state = "drone_away"
    return DockOut(
        id=dock.id,
        name=dock.name,
        lat=dock.lat,
        lon=dock.lon,
        ground_alt_amsl_m=dock.ground_alt_amsl_m,
        drones=[dr.id for dr in drones],
        drones_away=away,
        weather_hold=wind_hold,
        hold=DockHoldOut(reason=hold.reason, by=hold.held_by, at=iso_utc(hold.held_at))
        if hold
        else None,
        state=state,
    )


def _dock(service: Service, dock_id: str) -> Dock:
    dock = next((d for d in service.site.docks if d.id == dock_id), None)
    if dock is None:
        docks = ", ".join(d.id for d in service.site.docks)
        raise NotFound(f"dock {dock_id} does not exist (docks: {docks})")
    return dock


@router.get("/docks")
async def list_docks(request: Request, who: Authed) -> list[DockOut]:
    service = service_of(request)
    return [dock_out(service, d) for d in service.site.docks]


@router.post("/docks/{dock_id}/hold", status_code=201)
async def hold_dock(dock_id: str, body: DockHoldIn, request: Request, who: Authed) -> DockOut:
    """Put a dock on hold (a supervisor's override): its drones take no call until the
    hold is lifted; calls wait or go to another dock; a drone already flying flies on.
    409 if it is already on hold."""
    require_role(who, Role.SUPERVISOR, "holding a dock")
    service = service_of(request)
    dock = _dock(service, dock_id)
    hold = await service.dock_holds.hold(dock.id, body.reason.strip(), who.name, datetime.now(UTC))
    audit_request(
        request,
        actor=who.name,
        action="dock_held",
        outcome="ok",
        target=f"dock:{dock.id}",
        detail={"reason": hold.reason},
    )
    return dock_out(service, dock)


@router.delete("/docks/{dock_id}/hold")
async def lift_dock_hold(dock_id: str, request: Request, who: Authed) -> DockOut:
    """Lift a dock's hold: its drones take calls again (the waiting ones first). 409 if it
    is not on hold."""
    require_role(who, Role.SUPERVISOR, "lifting a dock's hold")
    service = service_of(request)
    dock = _dock(service, dock_id)
    lifted = await service.dock_holds.lift(dock.id, who.name)
    audit_request(
        request,
        actor=who.name,
        action="dock_hold_lifted",
        outcome="ok",
        target=f"dock:{dock.id}",
        detail={"reason": lifted.reason, "held_by": lifted.held_by},
    )
    return dock_out(service, dock)
