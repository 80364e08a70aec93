"""Missions through the real mavsdk 4.x Mission plugin: upload, download, clear, and a run
to completion with RTL after (reference §4.1, §4.2, §6 RTL sequence)."""

from __future__ import annotations

import pytest
from mavsdk.asyncio.plugins.mission import (
    MissionError,
    MissionItem,
    MissionPlan,
    MissionProgress,
    MissionResult,
)
from mavsdk.asyncio.plugins.telemetry import FlightMode, LandedState

from tests.sitl.mavsdk_session import (
    SimRig,
    Watched,
    closest_approach_m,
    distance_m,
    is_subsequence,
    offset_deg,
)

pytestmark = pytest.mark.timeout(240)

MISSION_ALT_REL_M = 15.0


def _plan(home_lat: float, home_lon: float) -> list[tuple[float, float]]:
    return [
        offset_deg(home_lat, home_lon, 60.0, 0.0),
        offset_deg(home_lat, home_lon, 60.0, 60.0),
        offset_deg(home_lat, home_lon, 0.0, 60.0),
    ]


def _items(points: list[tuple[float, float]]) -> list[MissionItem]:
    return [
        MissionItem(
            latitude_deg=lat,
            longitude_deg=lon,
            relative_altitude_m=MISSION_ALT_REL_M,
            speed_m_s=8.0,
            is_fly_through=i < len(points) - 1,
            acceptance_radius_m=2.0,
        )
        for i, (lat, lon) in enumerate(points)
    ]


async def test_mission_upload_download_clear() -> None:
    async with SimRig(speed_factor=10.0) as rig:
        s = rig.session
        await s.wait_health_all_ok()
        points = _plan(rig.home[0], rig.home[1])
        await s.mission.set_return_to_launch_after_mission(True)
        await s.mission.upload_mission(MissionPlan(_items(points)))

        downloaded = await s.mission.download_mission()
        got = [i for i in downloaded.mission_items if i.latitude_deg == i.latitude_deg]
        assert len(got) == len(points), [vars(i) for i in downloaded.mission_items]
        for item, (lat, lon) in zip(got, points, strict=True):
            assert distance_m(item.latitude_deg, item.longitude_deg, lat, lon) < 0.05
            assert item.relative_altitude_m == pytest.approx(MISSION_ALT_REL_M, abs=0.01)
        assert got[0].is_fly_through and not got[-1].is_fly_through
        assert await s.mission.get_return_to_launch_after_mission() is True

        await s.mission.clear_mission()
        try:
            empty = await s.mission.download_mission()
        except MissionError as exc:
            assert exc.result == MissionResult.NO_MISSION_AVAILABLE, exc
        else:
            assert empty.mission_items == []

        # A second upload after the clear replaces it cleanly.
        await s.mission.upload_mission(MissionPlan(_items(points[:2])))
        again = await s.mission.download_mission()
        assert len([i for i in again.mission_items if i.latitude_deg == i.latitude_deg]) == 2


async def test_mission_runs_to_completion_then_returns_and_lands() -> None:
    async with SimRig(speed_factor=20.0) as rig:
        s = rig.session
        home_lat, home_lon, _ = rig.home
        await s.wait_health_all_ok()
        await s.wait_armable()
        await s.mode.wait_for(FlightMode.HOLD)
        progress: Watched[MissionProgress] = Watched("mission_progress")
        s.watch(progress, s.mission.subscribe_mission_progress)
        # at 20x the default 10 Hz position stream is one sample per 16 m of track, and the
        # chord across a 90-degree corner passes up to 6 m from the waypoint: ask for 50 Hz
        await s.telemetry.set_rate_position(50.0)

        points = _plan(home_lat, home_lon)
        await s.mission.set_return_to_launch_after_mission(True)
        await s.mission.upload_mission(MissionPlan(_items(points)))
        assert await s.mission.is_mission_finished() is False

        mode_mark, landed_mark = s.mode.mark(), s.landed.mark()
        await s.action.arm()  # start at once: COM_DISARM_PRFLT is 0.5 s of wall time at 20x
        await s.mission.start_mission()
        await s.mode.wait_for(FlightMode.MISSION)
        await s.landed.wait_for(LandedState.IN_AIR)

        track_mark = s.position.mark()
        await progress.wait_until(lambda p: p.total == len(points) and p.current == p.total)
        await s.mode.wait_for(FlightMode.RETURN_TO_LAUNCH)
        track = s.position.since(track_mark)
        for lat, lon in points:
            assert closest_approach_m(track, lat, lon) < 4.0, f"waypoint {lat},{lon} missed"
        cruising = [p.relative_altitude_m for p in track if p.relative_altitude_m > 5.0]
        assert max(cruising) == pytest.approx(MISSION_ALT_REL_M, abs=2.0)
        assert await s.mission.is_mission_finished() is True
        await s.wait_landed_disarmed()

        landed_at = s.position.latest
        assert landed_at is not None
        assert distance_m(landed_at.latitude_deg, landed_at.longitude_deg, home_lat, home_lon) < 3.0
        modes = s.mode.since(mode_mark)
        assert is_subsequence([FlightMode.MISSION, FlightMode.RETURN_TO_LAUNCH], modes), modes
        landed = s.landed.since(landed_mark)
        assert is_subsequence(
            [
                LandedState.ON_GROUND,
                LandedState.TAKING_OFF,
                LandedState.IN_AIR,
                LandedState.LANDING,
                LandedState.ON_GROUND,
            ],
            landed,
        ), landed
