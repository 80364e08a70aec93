"""One simulated PX4 multicopter: its parts composed, the physics step, MAVLink dispatch.

A :class:`Vehicle` owns its :class:`~sitl.state.VehicleState` (position, arming, modes,
battery, plans, ...), two :class:`~sitl.link.Link` s (GCS in NORMAL mode, API in
ONBOARD mode), a :class:`~sitl.commander.Commander` (commands, arming, failsafes),
a :class:`~sitl.navigator.Navigator` (what the vehicle flies in each nav state), a
:class:`~sitl.mission_transfer.MissionTransfer` (mission/fence/rally protocol) and a
:class:`~sitl.param_server.ParamServer` (parameter protocol). The parts share the state
and reach the links only through the vehicle, by the narrow protocols they declare
(:mod:`sitl.outbox`, :mod:`sitl.commands`, :mod:`sitl.pilot`, :mod:`sitl.telemetry`).
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
from collections.abc import Mapping
from typing import Any

from sitl.airframe import load_airframe
from sitl.battery import Battery, WarningLevel
from sitl.commander import Commander
from sitl.frame import LocalFrame
from sitl.link import Link, LinkMode
from sitl.mission_transfer import MissionTransfer
from sitl.modes import LandedState, NavState
from sitl.motion import Motion
from sitl.navigator import Navigator
from sitl.orbit import Orbit
from sitl.param_server import ParamServer
from sitl.params import ParamStore
from sitl.spec import PortPlan, VehicleSpec
from sitl.state import Home, VehicleSnapshot, VehicleState
from sitl.streams import StreamSchedule
from sitl.telemetry import ENCODERS, EXTENDED_SYS_STATE, HEARTBEAT, HOME_POSITION
from sitl.wind import Wind, WindField

__all__ = ["Home", "Vehicle", "VehicleSnapshot"]

logger = logging.getLogger(__name__)

MAX_SUBSTEP_S = 0.05
MAX_TICK_GAP_S = 0.1
MAV_TYPE_GCS = 6
ITEM_REACHED_REPEATS = 10

DEFAULT_PORTS = PortPlan()
CALM = Wind()


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
        self.motion = Motion(max_air_mps=self.params.get_float("MPC_XY_VEL_MAX"))
        self.battery = Battery(self.params)
        self.state = VehicleState(
            name=self.name,
            sysid=self.sysid,
            params=self.params,
            frame=self.frame,
            ground_alt_amsl_m=spec.home_alt_amsl_m,
            home=Home(spec.home_lat_deg, spec.home_lon_deg, spec.home_alt_amsl_m),
            motion=self.motion,
            battery=self.battery,
        )
        self._wind = WindField(wind, seed * 1000 + self.sysid)
        self._last_tick_real_s: float | None = None
        self._reached_repeats: list[tuple[int, int, float]] = []  # seq, left, next due (real)
        # vehicle time of the last arming and of each mission item's last MISSION_ITEM_REACHED
        # (for benchmarks: a ground station hears of them a tick or more later, which at a
        # high speed factor on a loaded machine is seconds of vehicle time)
        self.armed_at_s: float | None = None
        self.item_reached_at_s: dict[int, float] = {}
        self._was_armed = False
        # commands wait for the next tick, as PX4's commander handles them in its own loop:
        # an ACK that comes back within a millisecond races MAVSDK's command bookkeeping
        self._commands: list[tuple[Link, Any, bool]] = []
        self._statustext_id = 0
        self._announced = (self.state.nav_state, self.state.armed, self.state.landed_state)
        self.gcs_link, self.api_link = self._make_links(spec, ports)
        self.links = (self.gcs_link, self.api_link)
        now = time.monotonic()
        self.streams: Mapping[Link, StreamSchedule] = {
            link: StreamSchedule(link.mode, now) for link in self.links
        }
        # the parts: each takes the state and this vehicle as its narrow outbox; the
        # navigator's mode requests go to the commander through request_mode below
        self.navigator = Navigator(self.state, self, self)
        self.commander = Commander(self.state, self, self.navigator)
        self.transfer = MissionTransfer(self.state, self, self.commander, self.navigator)
        self.param_server = ParamServer(self.state, self, self.links)

    def _make_links(self, spec: VehicleSpec, ports: PortPlan) -> tuple[Link, Link]:
        host = ports.host
        gcs = Link(
            name=f"{self.name} gcs",
            mode=LinkMode.NORMAL,
            sysid=self.sysid,
            local=(host, ports.gcs_local_base + spec.instance),
            default_remote=(host, ports.gcs_remote),
            on_message=self._on_message,
            signing_key=spec.signing_key,
            link_id=0,
        )
        api = Link(
            name=f"{self.name} api",
            mode=LinkMode.ONBOARD,
            sysid=self.sysid,
            local=(host, ports.api_local_base + spec.instance),
            default_remote=(host, ports.api_remote(spec.instance)),
            on_message=self._on_message,
            signing_key=spec.signing_key,
            link_id=1,
        )
        return gcs, api

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
        s = self.state
        lat, lon = s.lat_lon()
        return VehicleSnapshot(
            lat_deg=lat,
            lon_deg=lon,
            alt_amsl_m=s.alt_amsl_m(),
            alt_rel_m=s.alt_rel_m(),
            ground_speed_mps=self.motion.ground_speed_mps,
            heading_deg=self.motion.heading_deg,
            armed=s.armed,
            nav_state=s.nav_state,
            landed_state=s.landed_state,
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

    # --- the state, read-only (the parts change it) ----------------------------------------
    @property
    def time_s(self) -> float:
        return self.state.time_s

    @property
    def armed(self) -> bool:
        return self.state.armed

    @property
    def nav_state(self) -> NavState:
        return self.state.nav_state

    @property
    def landed_state(self) -> LandedState:
        return self.state.landed_state

    @property
    def gps_failed(self) -> bool:
        return self.state.gps_failed

    @property
    def motor_failed(self) -> bool:
        return self.state.motor_failed

    @property
    def home(self) -> Home:
        return self.state.home

    def alt_rel_m(self) -> float:
        return self.state.alt_rel_m()

    # --- what the parts ask of each other through the vehicle ------------------------------
    def request_mode(self, state: NavState, *, user: bool = True) -> object:
        """The navigator's mode requests (takeoff done, mission RTL) go to the commander."""
        return self.commander.request_mode(state, user=user)

    def mission_cannot_run(self) -> None:
        self.commander.mission_cannot_run()

    # --- telemetry: what the encoders read besides the state -------------------------------
    @property
    def orbit(self) -> Orbit | None:
        return self.navigator.orbit

    def system_status(self) -> int:
        if self.state.nav_state is NavState.TERMINATION:
            return 8  # FLIGHT_TERMINATION
        if not self.state.armed:
            return 3  # STANDBY
        return 5 if self.commander.failsafe else 4

    def prearm_ok(self) -> bool:
        return self.commander.prearm_ok()

    def battery_warning(self) -> WarningLevel:
        return self.commander.battery_warning()

    def mission_status(self) -> tuple[int, int, int, int]:
        return self.navigator.mission_status()

    # --- sending ---------------------------------------------------------------------------
    def encode(self, msg_id: int, link: Link) -> Any | None:
        encoder = ENCODERS.get(msg_id)
        return None if encoder is None else encoder(self, link.mav)

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
        self.item_reached_at_s[seq] = self.state.time_s
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
        self.param_server.announce_changed()
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
        s = self.state
        s.time_s += dt_s
        s.wind_ne = self._wind.velocity_ne(s.time_s)
        desired, heading = self.navigator.update(dt_s)
        m = self.motion
        was_up = m.up_m
        m.step(dt_s, desired, s.wind_ne, heading)
        if s.motor_failed and was_up > 0:
            # no thrust: free fall with some drag, no horizontal control
            m.vu_mps = max(m.vu_mps - 9.81 * dt_s, -15.0)
        air = math.hypot(m.vn_mps - s.wind_ne[0], m.ve_mps - s.wind_ne[1])
        self.battery.step(
            dt_s,
            armed=s.armed,
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
        s = self.state
        state = (s.nav_state, s.armed, s.landed_state)
        if s.armed != self._was_armed:
            self._was_armed = s.armed
            if s.armed:
                self.armed_at_s = s.time_s
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
            self.param_server.send_all(link)
        elif kind == "PARAM_REQUEST_READ":
            self.param_server.read(link, msg)
        elif kind == "PARAM_SET":
            self.param_server.set(msg)
        elif kind == "TIMESYNC" and msg.tc1 == 0:
            link.send(link.mav.timesync_encode(time.monotonic_ns(), msg.ts1))
        self._announce_state_change()
