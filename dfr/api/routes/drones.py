"""The fleet: drones (telemetry and figures), their snapshots, and the docks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from dfr.api.access import Authed, service_of
from dfr.api.schemas import DockOut, DroneOut
from dfr.api.schemas.fleet import LinkWarningOut
from dfr.errors import NotFound
from dfr.planning.vehicle_limits import disagreements
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
    )


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


@router.get("/docks")
async def list_docks(request: Request, who: Authed) -> list[DockOut]:
    service = service_of(request)
    site = service.site
    out = []
    for d in site.docks:
        drones = [dr for dr in site.drones if dr.dock == d.id]
        away = [dr.id for dr in drones if service.sorties.flight_of_drone(dr.id) is not None]
        hold = any(service.wind.speed_mps > dr.performance.max_wind_mps for dr in drones)
        out.append(
            DockOut(
                id=d.id,
                name=d.name,
                lat=d.lat,
                lon=d.lon,
                ground_alt_amsl_m=d.ground_alt_amsl_m,
                drones=[dr.id for dr in drones],
                drones_away=away,
                weather_hold=hold,
                state="weather_hold" if hold else ("drone_away" if away else "ready"),
            )
        )
    return out
