"""The navigator's mission feasibility result and the fence it checks against.

PX4 ``navigator/mission_base.cpp`` ``check_mission_valid``, ``canRunMissionFeasibility``;
``navigator/geofence.cpp`` ``Geofence::run``: the navigator publishes a mission result
(valid or not, for which mission id) that the commander reads to decide whether Mission
mode may run. The check runs when a new mission arrives and the fence is loaded, when a
newly uploaded fence has finished loading, and (forced) each time Mission mode is
entered; until then the previous result stands. Loading a fence takes ``FENCE_LOAD_S`` of
*real* time: PX4 reads it from its dataman storage with a chain of asynchronous file
reads, one state per navigator cycle, so it is I/O time rather than simulated time, and a
client sees it at any speed factor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sitl.feasibility import FeasibilityInput, check_mission
from sitl.geofence import Geofence
from sitl.mission_item import MissionItem
from sitl.outbox import StatusText
from sitl.state import VehicleState

logger = logging.getLogger(__name__)

FENCE_LOAD_S = 0.3  # real time from a fence upload to the navigator's fence being READY


@dataclass(frozen=True, slots=True)
class MissionResult:
    """What PX4's navigator publishes as ``mission_result`` after a feasibility check."""

    valid: bool = False
    mission_id: int = 0  # the mission that was checked (0: none)
    fence_id: int = 0  # the fence it was checked against


class MissionCheck:
    """The last published mission result, the loaded fence and a fence being loaded."""

    def __init__(self, state: VehicleState, out: StatusText, param: Callable[[str], float]) -> None:
        self.s = state
        self.out = out
        self._p = param
        # at boot PX4 loads the (empty) fence and finds the empty mission invalid
        self.result = MissionResult()
        self._mission_checked = True
        self._fence = Geofence()  # the fence the navigator has loaded
        self._fence_id = 0
        self._fence_loading: tuple[Geofence, int, float] | None = None  # fence, id, ready at

    def runnable(self) -> bool:
        """The commander's ``!auto_mission_missing``: the last published result is valid
        and for a non-empty mission (HealthAndArmingChecks missionCheck.cpp)."""
        return self.result.valid and self.result.mission_id != 0

    def mission_changed(self) -> None:
        """onMissionUpdate: checked at once if the fence is loaded (here: on the next
        tick, as PX4's navigator sees the new mission on its next cycle), else later."""
        self._mission_checked = False

    def on_fence_uploaded(self, fence: Geofence, fence_id: int) -> None:
        """A new fence plan: PX4 reloads it from dataman (LOADING, then READY), and the
        mission must be checked again against it."""
        pending = self._fence_loading[1] if self._fence_loading else self._fence_id
        if fence_id == pending:
            return  # PX4 reloads the fence only when its id changes
        self._fence_loading = (fence, fence_id, time.monotonic() + FENCE_LOAD_S)
        self._mission_checked = False

    def update_real(
        self, now_real_s: float, mission: Sequence[MissionItem], mission_id: int
    ) -> bool:
        """Per tick (real time): finish a fence load, then run a pending check (True if
        one ran)."""
        loading = self._fence_loading
        if loading is not None and now_real_s >= loading[2]:
            self._fence, self._fence_id, _ = loading
            self._fence_loading = None
            logger.info("%s: geofence %08x ready", self.s.name, self._fence_id)
        if not self._mission_checked and self._fence_loading is None:
            self._mission_checked = True
            self.check(mission, mission_id)
            return True
        return False

    def check(
        self, mission: Sequence[MissionItem], mission_id: int, *, forced: bool = False
    ) -> None:
        s = self.s
        if (
            not forced
            and self.result.mission_id == mission_id
            and self.result.fence_id == self._fence_id
        ):
            return
        feasibility = check_mission(
            mission,
            FeasibilityInput(
                home_alt_amsl_m=s.home.alt_amsl_m,
                home_ne=s.home_ne(),
                ground_alt_amsl_m=s.ground_alt_amsl_m,
                landed=not s.in_air(),
                fence=self._fence,
                to_ne=s.frame.to_ne,
                takeoff_land_req=s.params.get_int("MIS_TKO_LAND_REQ"),
                dist_1wp_m=self._p("MIS_DIST_1WP"),
                max_hor_dist_m=self._p("GF_MAX_HOR_DIST"),
                max_ver_dist_m=self._p("GF_MAX_VER_DIST"),
            ),
        )
        for finding in feasibility.findings:
            self.out.statustext(finding.severity, finding.text)
        self.result = MissionResult(feasibility.valid, mission_id, self._fence_id)
        logger.info(
            "%s: mission %08x checked against fence %08x: %s",
            s.name,
            mission_id,
            self._fence_id,
            "valid" if feasibility.valid else "invalid",
        )

    def geofence_allows(self, north: float, east: float, up: float) -> bool:
        """Navigator::geofence_allows_position: always with GF_ACTION none (0) or warn (1),
        else Geofence::checkPointAgainstAllGeofences on the loaded fence."""
        s = self.s
        if s.params.get_int("GF_ACTION") in (0, 1):
            return True
        return self._fence.allows(
            north,
            east,
            s.ground_alt_amsl_m + up - s.home.alt_amsl_m,
            home_ne=s.home_ne(),
            max_hor_dist_m=self._p("GF_MAX_HOR_DIST"),
            max_ver_dist_m=self._p("GF_MAX_VER_DIST"),
        )
