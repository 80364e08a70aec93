"""One simulated camera per vehicle of a fleet, streaming RTP/H.264 to video_base + i
like PX4 SITL's gazebo camera. The incident marker is the centre of the vehicle's last
orbit (in a DFR flight, the scene)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack

from sitl.camera import CameraPose, SimCamera
from sitl.fleet import Fleet
from sitl.vehicle import Vehicle

DEMO_CAMERA_SIZE_PX = (640, 360)  # a fleet of 720p cameras would not fit on 2 cores
DEMO_CAMERA_FPS = 15.0


def camera_pose_of(vehicle: Vehicle) -> Callable[[], CameraPose]:
    """The camera pose of a vehicle, read on the event loop once per frame."""
    marker: list[tuple[float, float]] = []

    def pose() -> CameraPose:
        snap = vehicle.snapshot()
        orbit = vehicle.navigator.orbit
        if orbit is not None:
            marker[:] = [vehicle.frame.to_lat_lon(*orbit.center_ne)]
        mark = marker[0] if marker else (None, None)
        return CameraPose(snap.lat_deg, snap.lon_deg, vehicle.motion.up_m, snap.heading_deg, *mark)

    return pose


async def enter_cameras(
    stack: AsyncExitStack,
    fleet: Fleet,
    *,
    size_px: tuple[int, int] = DEMO_CAMERA_SIZE_PX,
    fps: float = DEMO_CAMERA_FPS,
) -> list[SimCamera]:
    """Start a camera per vehicle; they stop when ``stack`` closes."""
    cameras = []
    for vehicle in fleet.vehicles:
        dest = (fleet.ports.host, fleet.ports.video_base + vehicle.spec.instance)
        camera = SimCamera(
            vehicle.name,
            camera_pose_of(vehicle),
            dest,
            width=size_px[0],
            height=size_px[1],
            fps=fps,
        )
        cameras.append(await stack.enter_async_context(camera))
    return cameras
