"""One simulated PX4 multicopter: state, physics step, MAVLink dispatch.

A :class:`Vehicle` owns two :class:`~sitl.link.Link` s (GCS in NORMAL mode, API in
ONBOARD mode), a :class:`~sitl.commander.Commander` (commands, arming, failsafes),
a :class:`~sitl.navigator.Navigator` (what the vehicle flies in each nav state), a
:class:`~sitl.mission_transfer.MissionTransfer` (mission/fence/rally protocol),
its :class:`~sitl.motion.Motion` and :class:`~sitl.battery.Battery`.
The fleet calls :meth:`Vehicle.tick` for every vehicle from one task.

Time. ``time_s`` is *vehicle time*: it runs ``speed_factor`` times faster than real
time, like PX4 lockstep with ``PX4_SIM_SPEED_FACTOR``. Physics, battery, and the
vehicle's own timers run on it: takeoff/landing, ``COM_DISARM_LAND``,
``COM_DISARM_PRFLT``, ``COM_FAIL_ACT_T``, ``NAV_DELAY``/loiter/hold times,
``RTL_LAND_DELAY``. MAVLink protocol timing runs on real time, because the clients'
timeouts are real: stream rates, heartbeats, mission 250 ms re-request / 5 s
timeout, MISSION_ITEM_REACHED repeats, and ``COM_DL_LOSS_T`` (a GCS that sends a
heartbeat every real second must not look lost at high speed factors).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from sitl.airframe import load_airframe
from sitl.battery import Battery
from sitl.commander import Commander
from sitl.frame import LocalFrame
from sitl.link import Link, LinkMode
from sitl.mission_transfer import MissionTransfer
from sitl.modes import LandedState, NavState
from sitl.motion import Motion, Wind, WindField
from sitl.navigator import Navigator
from sitl.params import HASH_CHECK_INDEX, HASH_CHECK_NAME, ParamStore, decode_param_id, int_to_wire
from sitl.spec import PortPlan, VehicleSpec
from sitl.streams import (
    ENCODERS,
    EXTENDED_SYS_STATE,
    HEARTBEAT,
    HOME_POSITION,
    StreamSchedule,
)

logger = logging.getLogger(__name__)

MAX_SUBSTEP_S = 0.05
MAX_TICK_GAP_S = 0.1
MAV_TYPE_GCS = 6
ITEM_REACHED_REPEATS = 10

# MAV_SEVERITY
SEV_EMERGENCY = 0
SEV_ALERT = 1
SEV_CRITICAL = 2
SEV_ERROR = 3
SEV_WARNING = 4
SEV_NOTICE = 5
SEV_INFO = 6
DEFAULT_PORTS = PortPlan()
CALM = Wind()


@dataclass(frozen=True, slots=True)
class Home:
    lat_deg: float
    lon_deg: float
    alt_amsl_m: float


@dataclass(frozen=True, slots=True)
class VehicleSnapshot:
    lat_deg: float
    lon_deg: float
    alt_amsl_m: float
    alt_rel_m: float  # above home
    ground_speed_mps: float
    heading_deg: float
    armed: bool
    nav_state: NavState
    landed_state: LandedState
    battery_remaining_pct: float
    failsafe: bool


class Vehicle:
    def __init__(
        self,
        spec: VehicleSpec,
        *,
        ports: PortPlan = DEFAULT_PORTS,
        speed_factor: float = 1.0,
        wind: Wind = CALM,
        seed: int = 0,
    ) -> None:
        self.spec = spec
        self.speed_factor = speed_factor
        # as PX4's rcS: parameter defaults, the airframe's set-defaults, MAV_SYS_ID from the
        # instance, then the PX4_PARAM_* overrides (PX4_PARAM_MAV_SYS_ID gives another id)
        self.params = ParamStore(
            {**load_airframe(spec.airframe), "MAV_SYS_ID": spec.instance + 1, **dict(spec.params)}
        )
        self.sysid = self.params.get_int("MAV_SYS_ID")
        if not 1 <= self.sysid <= 255:
            raise ValueError(f"vehicle {spec.instance}: MAV_SYS_ID {self.sysid} is not 1..255")
        self.name = spec.name or f"vehicle{self.sysid}"
        self.frame = LocalFrame(spec.home_lat_deg, spec.home_lon_deg)
        self.ground_alt_amsl_m = spec.home_alt_amsl_m
        self.home = Home(spec.home_lat_deg, spec.home_lon_deg, spec.home_alt_amsl_m)
        self.motion = Motion(max_air_mps=self.params.get_float("MPC_XY_VEL_MAX"))
        self.battery = Battery(self.params)
        self._wind = WindField(wind, seed * 1000 + self.sysid)
        self.wind_ne: tuple[float, float] = (0.0, 0.0)
        self.armed = False
        self.nav_state = NavState.HOLD
        self.landed_state = LandedState.ON_GROUND
        self.gps_failed = False
        self.motor_failed = False
        self.time_s = 0.0
        self._last_tick_real_s: float | None = None
        self.commander = Commander(self)
        self.navigator = Navigator(self)
        self.transfer = MissionTransfer(self)
        self._reached_repeats: list[tuple[int, int, float]] = []  # seq, left, next due (real)
        # commands wait for the next tick, as PX4's commander handles them in its own loop:
        # an ACK that comes back within a millisecond races MAVSDK's command bookkeeping
        self._commands: list[tuple[Link, Any, bool]] = []
        self._changed_params: list[str] = []
        self._statustext_id = 0
        self._announced: tuple[NavState, bool, LandedState] = (
            self.nav_state,
            self.armed,
            self.landed_state,
        )
        host = ports.host
        self.gcs_link = Link(
            name=f"{self.name} gcs",
            mode=LinkMode.NORMAL,
            sysid=self.sysid,
            local=(host, ports.gcs_local_base + spec.instance),
            default_remote=(host, ports.gcs_remote),
            on_message=self._on_message,
            signing_key=spec.signing_key,
            link_id=0,
        )
        self.api_link = Link(
            name=f"{self.name} api",
            mode=LinkMode.ONBOARD,
            sysid=self.sysid,
            local=(host, ports.api_local_base + spec.instance),
            default_remote=(host, ports.api_remote(spec.instance)),
            on_message=self._on_message,
            signing_key=spec.signing_key,
            link_id=1,
        )
        self.links = (self.gcs_link, self.api_link)
        now = time.monotonic()
        self.streams = {link: StreamSchedule(link.mode, now) for link in self.links}

    # --- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        for link in self.links:
            await link.open()
        logger.info(
            "%s: sysid %d, airframe %s, %s, GCS link %s:%d -> %d, API link %s:%d -> %d",
            self.name,
            self.sysid,
            self.spec.airframe,
            "signed MAVLink" if self.spec.signing_key else "unsigned MAVLink",
            self.gcs_link.local[0],
            self.gcs_link.local[1],
            self.gcs_link.remote[1],
            self.api_link.local[0],
            self.api_link.local[1],
            self.api_link.remote[1],
        )

    def close(self) -> None:
        for link in self.links:
            link.close()

    # --- public interface ------------------------------------------------------------------
    def snapshot(self) -> VehicleSnapshot:
        lat, lon = self.lat_lon()
        return VehicleSnapshot(
            lat_deg=lat,
            lon_deg=lon,
            alt_amsl_m=self.alt_amsl_m(),
            alt_rel_m=self.alt_rel_m(),
            ground_speed_mps=self.motion.ground_speed_mps,
            heading_deg=self.motion.heading_deg,
            armed=self.armed,
            nav_state=self.nav_state,
            landed_state=self.landed_state,
            battery_remaining_pct=self.battery.remaining_pct,
            failsafe=self.commander.failsafe,
        )

    def set_link_blocked(self, blocked: bool) -> None:
        """Radio cut: drop everything in both directions on both links (False restores)."""
        for link in self.links:
            link.blocked = blocked
            if not blocked:
                link.rx_dropped = False  # also ends an injected "MAVLink signal lost"
        logger.info("%s: radio %s", self.name, "cut" if blocked else "restored")

    def set_wind(self, wind: Wind) -> None:
        self._wind.wind = wind

    # --- derived state ---------------------------------------------------------------------
    def lat_lon(self) -> tuple[float, float]:
        return self.frame.to_lat_lon(self.motion.north_m, self.motion.east_m)

    def alt_amsl_m(self) -> float:
        return self.ground_alt_amsl_m + self.motion.up_m

    def alt_rel_m(self) -> float:
        return self.alt_amsl_m() - self.home.alt_amsl_m

    def home_up_m(self) -> float:
        """Home altitude in the local frame (metres above the origin's ground)."""
        return self.home.alt_amsl_m - self.ground_alt_amsl_m

    def home_ne(self) -> tuple[float, float]:
        return self.frame.to_ne(self.home.lat_deg, self.home.lon_deg)

    def course_deg(self) -> float:
        m = self.motion
        if m.ground_speed_mps < 0.1:
            return m.heading_deg
        return math.degrees(math.atan2(m.ve_mps, m.vn_mps)) % 360.0

    def boot_ms(self) -> int:
        """Time since boot on the vehicle's clock: with a speed factor it runs that much
        faster, as PX4 SITL's lockstep clock does (PX4_SIM_SPEED_FACTOR)."""
        return int(self.time_s * 1000)

    def boot_us(self) -> int:
        return int(self.time_s * 1e6)

    def in_air(self) -> bool:
        return self.landed_state in (LandedState.IN_AIR, LandedState.TAKEOFF, LandedState.LANDING)

    def system_status(self) -> int:
        if self.nav_state is NavState.TERMINATION:
            return 8  # FLIGHT_TERMINATION
        if not self.armed:
            return 3  # STANDBY
        return 5 if self.commander.failsafe else 4

    # --- sending ---------------------------------------------------------------------------
    def send_all(self, msg_id: int) -> None:
        for link in self.links:
            msg = ENCODERS[msg_id](self, link.mav)
            if msg is not None:
                link.send(msg)

    def send_home(self) -> None:
        self.send_all(HOME_POSITION)

    def statustext(self, severity: int, text: str) -> None:
        """As PX4's STATUSTEXT stream: a text over 50 bytes goes out in 50-byte chunks that
        share one ``id``, ``chunk_seq`` 0, 1, ... (streams/STATUSTEXT.hpp)."""
        logger.info("%s: [%d] %s", self.name, severity, text)
        data = text.encode("utf-8")[:127]  # mavlink_log_s text[127]
        self._statustext_id = self._statustext_id % 0xFFFF + 1
        chunks = [data[i : i + 50] for i in range(0, len(data), 50)] or [b""]
        for link in self.links:
            for seq, chunk in enumerate(chunks):
                link.send(link.mav.statustext_encode(severity, chunk, self._statustext_id, seq))

    def ack(self, link: Link, msg: Any, command: int, result: int) -> None:
        link.send(
            link.mav.command_ack_encode(
                command, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()
            )
        )

    def mission_item_reached(self, seq: int) -> None:
        for link in self.links:
            link.send(link.mav.mission_item_reached_encode(seq))
        self._reached_repeats = [r for r in self._reached_repeats if r[0] != seq]
        self._reached_repeats.append((seq, ITEM_REACHED_REPEATS, time.monotonic() + 1.0))

    # --- the tick --------------------------------------------------------------------------
    def tick(self, now_real_s: float) -> None:
        last = self._last_tick_real_s
        self._last_tick_real_s = now_real_s
        if last is not None:
            # a late tick (loaded machine) slows the simulation rather than letting the
            # vehicle jump: at most MAX_TICK_GAP_S of real time is simulated per tick
            dt_v = min(now_real_s - last, MAX_TICK_GAP_S) * self.speed_factor
            steps = max(1, math.ceil(dt_v / MAX_SUBSTEP_S - 1e-9))
            sub = dt_v / steps
            for _ in range(steps):
                self._physics_step(sub)
        if self._commands:
            commands, self._commands = self._commands, []
            for link, msg, is_int in commands:
                self.commander.handle_command(link, msg, is_int=is_int)
            self._announce_state_change()
        if self._changed_params:
            names, self._changed_params = self._changed_params, []
            for name in dict.fromkeys(names):
                for link in self.links:
                    link.send(self._param_value_msg(link, name))
        self.commander.update_real(now_real_s)
        self.transfer.update(now_real_s)
        if self._reached_repeats:
            self._repeat_reached(now_real_s)
        for link in self.links:
            self.streams[link].send_due(self, link, now_real_s)

    def _repeat_reached(self, now_real_s: float) -> None:
        kept: list[tuple[int, int, float]] = []
        for seq, left, due in self._reached_repeats:
            if now_real_s >= due:
                for link in self.links:
                    link.send(link.mav.mission_item_reached_encode(seq))
                left -= 1
                due = now_real_s + 1.0
            if left > 0:
                kept.append((seq, left, due))
        self._reached_repeats = kept

    def _physics_step(self, dt_s: float) -> None:
        self.time_s += dt_s
        self.wind_ne = self._wind.velocity_ne(self.time_s)
        desired, heading = self.navigator.update(dt_s)
        m = self.motion
        was_up = m.up_m
        m.step(dt_s, desired, self.wind_ne, heading)
        if self.motor_failed and was_up > 0:
            # no thrust: free fall with some drag, no horizontal control
            m.vu_mps = max(m.vu_mps - 9.81 * dt_s, -15.0)
        air = math.hypot(m.vn_mps - self.wind_ne[0], m.ve_mps - self.wind_ne[1])
        self.battery.step(
            dt_s,
            armed=self.armed,
            in_air=m.up_m > 0.05,
            airspeed_mps=air if m.up_m > 0.05 else 0.0,
            climb_mps=m.vu_mps,
            sim_drain_s=self.params.get_float("SIM_BAT_DRAIN"),
            sim_min_pct=self.params.get_float("SIM_BAT_MIN_PCT"),
        )
        self.commander.update_vehicle(dt_s)
        self._announce_state_change()

    def _announce_state_change(self) -> None:
        """Send HEARTBEAT + EXTENDED_SYS_STATE at once when mode, arming or landed state
        changes, so that short transitions are seen at any speed factor (DEFECTS D1)."""
        state = (self.nav_state, self.armed, self.landed_state)
        if state != self._announced and self.params.get_int("SIM_STATE_ANNOUNCE"):
            self._announced = state
            self.send_all(HEARTBEAT)
            self.send_all(EXTENDED_SYS_STATE)

    # --- receiving -------------------------------------------------------------------------
    def _addressed_to_me(self, msg: Any, kind: str) -> bool:
        target_system = getattr(msg, "target_system", 0)
        target_component = getattr(msg, "target_component", 0)
        if target_system not in (0, self.sysid):
            return False
        # PX4's mission manager also takes MAV_COMP_ID_MISSIONPLANNER (190) as its own
        return target_component in (0, 1) or (
            target_component == 190 and kind.startswith("MISSION_")
        )

    def _on_message(self, link: Link, msg: Any) -> None:
        kind = msg.get_type()
        if kind == "HEARTBEAT":
            if msg.type == MAV_TYPE_GCS:
                self.commander.gcs_heartbeat(time.monotonic())
            return
        if not self._addressed_to_me(msg, kind):
            return
        if kind == "COMMAND_LONG":
            self._commands.append((link, msg, False))
        elif kind == "COMMAND_INT":
            self._commands.append((link, msg, True))
        elif kind == "SET_MODE":
            self.commander.handle_set_mode_message(msg)
        elif kind.startswith("MISSION_"):
            self.transfer.handle(link, msg)
        elif kind == "PARAM_REQUEST_LIST":
            self._send_all_params(link)
        elif kind == "PARAM_REQUEST_READ":
            self._param_read(link, msg)
        elif kind == "PARAM_SET":
            self._param_set(msg)
        elif kind == "TIMESYNC" and msg.tc1 == 0:
            link.send(link.mav.timesync_encode(time.monotonic_ns(), msg.ts1))
        self._announce_state_change()

    # --- parameter protocol ----------------------------------------------------------------
    def _param_value_msg(self, link: Link, name: str) -> Any:
        value, ptype = self.params.wire_value(name)
        return link.mav.param_value_encode(
            name.encode("ascii"), value, int(ptype), len(self.params), self.params.index_of(name)
        )

    def _hash_check_msg(self, link: Link) -> Any:
        crc = self.params.hash_check()
        signed = crc - (1 << 32) if crc >= (1 << 31) else crc
        return link.mav.param_value_encode(
            HASH_CHECK_NAME.encode("ascii"),
            int_to_wire(signed),
            6,
            len(self.params),
            HASH_CHECK_INDEX,
        )

    def _send_all_params(self, link: Link) -> None:
        for name in self.params.names():
            link.send(self._param_value_msg(link, name))
        link.send(self._hash_check_msg(link))

    def _param_read(self, link: Link, msg: Any) -> None:
        if msg.param_index >= 0:
            if msg.param_index == HASH_CHECK_INDEX:
                link.send(self._hash_check_msg(link))
                return
            name = self.params.name_at(msg.param_index)
        else:
            name = decode_param_id(msg.param_id)
            if name == HASH_CHECK_NAME:
                link.send(self._hash_check_msg(link))
                return
        if name is None or name not in self.params:
            logger.debug("%s: no parameter %r / index %d", self.name, msg.param_id, msg.param_index)
            return
        link.send(self._param_value_msg(link, name))

    def _param_set(self, msg: Any) -> None:
        name = decode_param_id(msg.param_id)
        if name not in self.params:
            self.statustext(SEV_ERROR, f"Parameter {name} not found")
            return
        try:
            self.params.set_from_wire(name, msg.param_value, msg.param_type)
        except ValueError as exc:
            self.statustext(SEV_ERROR, f"Parameter {name}: {exc}"[:50])
        if name == "MPC_XY_VEL_MAX":
            self.motion.max_air_mps = self.params.get_float(name)
        for link in self.links:
            link.send(self._param_value_msg(link, name))
        # PX4 also announces every changed parameter once more from its parameter-update
        # loop; MAVSDK's param subscriptions (e.g. the Failure plugin's SYS_FAILURE_EN) are
        # fed by PARAM_VALUEs that do not answer its own PARAM_SET.
        self._changed_params.append(name)
