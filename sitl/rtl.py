"""Return to launch (RTL_TYPE 0), as PX4's ``rtl_direct.cpp``: climb to the return
altitude, fly to the closest of home and the rally points, descend to ``RTL_DESCEND_ALT``,
wait ``RTL_LAND_DELAY`` (vehicle time), land."""

from __future__ import annotations

import logging
import math
from enum import StrEnum

from sitl.mission_item import MissionType
from sitl.motion import Velocity
from sitl.outbox import StatusText
from sitl.pilot import Pilot, Setpoint
from sitl.state import VehicleState

logger = logging.getLogger(__name__)


class RtlPhase(StrEnum):
    CLIMB = "climb"
    RETURN = "return"
    DESCEND = "descend"
    LOITER = "loiter"
    LAND = "land"
    DONE = "done"


class ReturnToLaunch:
    def __init__(self, state: VehicleState, out: StatusText, pilot: Pilot) -> None:
        self.s = state
        self.out = out
        self.pilot = pilot
        self.phase = RtlPhase.DONE
        self._up = 0.0
        self._dest: tuple[float, float, float] = (0.0, 0.0, 0.0)  # north, east, up
        self._dest_name = "home"
        self._wait_until = 0.0

    def start(self) -> None:
        """RTL_TYPE 0: the closest of home and the rally points, straight, at the return
        altitude limited by the cone (RTL_CONE_ANG) but not below RTL_DESCEND_ALT."""
        s = self.s
        m = s.motion
        p = self.pilot.param
        if not s.armed or m.up_m <= 0.0:
            self.phase = RtlPhase.DONE
            return
        dest_ne, dest_up, dest_name = s.home_ne(), s.home_up_m(), "home"
        dist = math.hypot(m.north_m - dest_ne[0], m.east_m - dest_ne[1])
        for rally in s.plans[MissionType.RALLY]:
            ne = s.frame.to_ne(rally.lat_deg, rally.lon_deg)
            d = math.hypot(m.north_m - ne[0], m.east_m - ne[1])
            if d < dist:
                up = rally.alt_up_m(
                    ground_alt_amsl_m=s.ground_alt_amsl_m, home_alt_amsl_m=s.home.alt_amsl_m
                )
                dest_ne, dest_up, dest_name, dist = ne, max(0.0, up or 0.0), "rally point", d
        self._dest = (dest_ne[0], dest_ne[1], dest_up)
        self._dest_name = dest_name
        height = p("RTL_RETURN_ALT")
        cone_deg = p("RTL_CONE_ANG")
        if 0 < cone_deg < 90:
            height = min(height, dist / math.tan(math.radians(cone_deg)))
        return_up = dest_up + max(height, p("RTL_DESCEND_ALT"))
        if dist < p("RTL_MIN_DIST"):
            return_up = m.up_m
        self._up = max(m.up_m, return_up)
        self.phase = RtlPhase.CLIMB
        # rtl_direct.cpp: altitude AMSL and above the destination, whole metres
        self.out.statustext(
            6,
            f"RTL: start return at {round(s.ground_alt_amsl_m + self._up)} m "
            f"({round(self._up - dest_up)} m above destination)\t",
        )

    def _set_phase(self, phase: RtlPhase) -> None:
        logger.info("%s: RTL %s -> %s", self.s.name, self.phase, phase)
        self.phase = phase

    def update(self) -> Setpoint:
        s = self.s
        m = s.motion
        fly_to, p = self.pilot.fly_to, self.pilot.param
        hn, he, dest_up = self._dest
        phase = self.phase
        if phase is RtlPhase.DONE:
            return Velocity(), None
        if phase is RtlPhase.CLIMB:
            if m.up_m >= self._up - 0.5:
                self._set_phase(RtlPhase.RETURN)
            else:
                return fly_to(m.north_m, m.east_m, self._up, heading=m.heading_deg)
        if self.phase is RtlPhase.RETURN:
            if math.hypot(m.north_m - hn, m.east_m - he) < 1.0 and m.ground_speed_mps < 1.0:
                self._set_phase(RtlPhase.DESCEND)
            else:
                return fly_to(hn, he, self._up)
        loiter_up = dest_up + p("RTL_DESCEND_ALT")
        if self.phase is RtlPhase.DESCEND:
            if m.up_m <= loiter_up + 0.5:
                self._wait_until = s.time_s + p("RTL_LAND_DELAY")
                self._set_phase(RtlPhase.LOITER)
            else:
                return fly_to(hn, he, loiter_up)
        if self.phase is RtlPhase.LOITER:
            delay = p("RTL_LAND_DELAY")
            if delay < 0 or s.time_s < self._wait_until:
                return fly_to(hn, he, min(m.up_m, loiter_up))
            self.out.statustext(6, "RTL: land at destination\t")
            self._set_phase(RtlPhase.LAND)
        return self.pilot.descend_at((hn, he))
