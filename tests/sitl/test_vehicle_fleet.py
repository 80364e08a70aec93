"""The fleet: ports per instance, a site's drones as vehicles, many vehicles on one loop,
and ``dfr sim``."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dfr.sim_fleet import specs_for_site
from dfr.site import Site, load_site
from sitl.fleet import Fleet, PortPlan, VehicleSpec
from sitl.params import wire_to_int
from sitl.probe import Probe
from sitl.runner import specs_in_a_row
from tests.ports import free_port_offset

ROOT = Path(__file__).resolve().parents[2]


def test_port_plan_follows_px4_sitl_and_shifts() -> None:
    ports = PortPlan()
    assert (
        ports.gcs_local_base,
        ports.gcs_remote,
        ports.api_local_base,
        ports.api_remote_base,
        ports.video_base,
    ) == (18570, 14550, 14580, 14540, 5600)
    shifted = ports.shifted(1000)
    assert (shifted.gcs_local_base, shifted.gcs_remote, shifted.api_remote_base) == (
        19570,
        15550,
        15540,
    )
    assert shifted.host == "127.0.0.1"


def test_site_drones_become_vehicles_at_their_docks_flying_the_airframe() -> None:
    site = load_site(ROOT / "flightplans" / "fort-worth")
    fleet = Fleet(specs_for_site(site), ports=PortPlan().shifted(30000))
    assert [v.name for v in fleet.vehicles] == [d.id for d in site.drones]
    for i, (vehicle, drone) in enumerate(zip(fleet.vehicles, site.drones, strict=True)):
        dock = site.dock_of(drone)
        assert vehicle.sysid == i + 1
        snap = vehicle.snapshot()
        assert (snap.lat_deg, snap.lon_deg, snap.alt_amsl_m) == (
            pytest.approx(dock.lat),
            pytest.approx(dock.lon),
            dock.ground_alt_amsl_m,
        )
        # the site's performance is the planner's belief; the vehicle flies its airframe
        assert drone.performance.cruise_speed_mps == 15.0
        assert vehicle.params.get("MPC_XY_CRUISE") == 5.0  # sihsim_quadx: PX4's default
    demo = Fleet(
        specs_for_site(site, airframe="dfr_quad", params={"SIM_BAT_CAP_WH": 90.0}),
        ports=PortPlan().shifted(30000),
    )
    for vehicle in demo.vehicles:
        assert vehicle.params.get("MPC_XY_CRUISE") == 15.0
        assert vehicle.battery.capacity_wh == 90.0  # the override, after the airframe


def test_a_site_url_on_another_port_than_the_instance_sends_to_is_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = load_site(ROOT / "flightplans" / "fort-worth")
    drones = [site.drones[1], site.drones[0], *site.drones[2:]]  # 14541 first, 14540 second
    swapped = Site(site.directory, site.data.model_copy(update={"drones": drones}))
    with caplog.at_level("WARNING", logger="dfr.sim_fleet"):
        specs_for_site(swapped)
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 2 and "instance 0 sends to port 14540" in warned[0]


def test_drones_in_a_row_sit_metres_apart() -> None:
    specs = specs_in_a_row(3, (47.0, 8.0, 400.0))
    assert [s.instance for s in specs] == [0, 1, 2]
    fleet = Fleet(specs)
    east = [fleet.vehicles[0].frame.to_ne(s.home_lat_deg, s.home_lon_deg)[1] for s in specs]
    assert east == [pytest.approx(0.0), pytest.approx(5.0, abs=0.05), pytest.approx(10.0, abs=0.1)]


async def test_each_vehicle_talks_from_its_own_ports_with_its_own_sysid() -> None:
    offset = free_port_offset()
    # keep the GCS port away from API ports (PX4 uses 14549 for i > 9 for the same reason)
    ports = dataclasses.replace(PortPlan().shifted(offset), gcs_remote=offset + 9000)
    specs = [VehicleSpec(i, 47.0, 8.0 + i * 1e-4, 400.0) for i in range(3)]
    probes = [await Probe().open(ports.api_remote_base + i) for i in range(3)]
    gcs = await Probe(sysid=255).open(ports.gcs_remote)
    try:
        async with Fleet(specs, ports=ports, speed_factor=5.0):
            for i, probe in enumerate(probes):
                hb = await probe.connected()
                assert hb.get_srcSystem() == i + 1
                assert probe.vehicle_addr == ("127.0.0.1", ports.api_local_base + i)
                ack = await probe.command_long(400, 1, target=(i + 1, 1))
                assert ack.result == 0
            sysids = set()
            while len(sysids) < 3:
                msg = await gcs.wait_for("HEARTBEAT")
                sysids.add(msg.get_srcSystem())
            assert sysids == {1, 2, 3}
    finally:
        for probe in [*probes, gcs]:
            probe.close()


def test_dfr_sim_on_ports_in_use_says_which_and_how_to_shift_them() -> None:
    offset = free_port_offset()
    taken_port = 18570 + offset + 1  # vehicle 1's GCS port, as another simulator would hold it
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", taken_port))
        command = ["sim", "--drones", "2", "--no-camera", "--port-offset", str(offset)]
        done = subprocess.run(
            [sys.executable, "-m", "dfr.cli", *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert done.returncode == 2, done.stderr
    assert f"UDP 127.0.0.1:{taken_port}: Address already in use" in done.stderr
    assert "--port-offset N" in done.stderr and "Traceback" not in done.stderr


def test_dfr_sim_starts_vehicles_and_stops_cleanly_on_sigint() -> None:
    offset = str(free_port_offset())
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dfr.cli",
            "sim",
            "--drones",
            "2",
            "--speed",
            "5",
            "--port-offset",
            offset,
            "--no-camera",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "Ctrl-C" in line:
            break
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=20)
    assert proc.returncode == 0
    text = "".join(lines) + (rest or "")
    assert "sysid 1, airframe sihsim_quadx" in text and "sysid 2" in text
    assert "fleet stopped" in text


async def _read_param(probe: Probe, name: str) -> Any:
    since = probe.mark()
    probe.send(probe.mav.param_request_read_encode(1, 1, name.encode("ascii"), -1))
    return await probe.wait_for("PARAM_VALUE", lambda m: m.param_id == name, since=since)


async def test_dfr_sim_site_puts_the_drones_on_their_docks_with_the_given_airframe() -> None:
    offset = free_port_offset()
    site = load_site(ROOT / "flightplans" / "fort-worth")
    hq = site.dock_of(site.drones[0])
    probe = await Probe().open(PortPlan().shifted(offset).api_remote_base)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dfr.cli",
        "sim",
        "--site",
        str(ROOT / "flightplans" / "fort-worth"),
        "--airframe",
        "dfr_quad",
        "--param",
        "MPC_XY_CRUISE=9",
        "--param",
        "COM_DL_LOSS_T=20",
        "--port-offset",
        str(offset),
        "--no-camera",
        cwd=ROOT,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        heartbeat = await probe.connected(timeout_s=30)
        assert heartbeat.get_srcSystem() == 1
        position = await probe.wait_for("GLOBAL_POSITION_INT")
        assert (position.lat / 1e7, position.lon / 1e7) == (
            pytest.approx(hq.lat, abs=1e-6),
            pytest.approx(hq.lon, abs=1e-6),
        )
        assert (await _read_param(probe, "MPC_XY_VEL_MAX")).param_value == 20.0  # dfr_quad
        assert (await _read_param(probe, "MPC_XY_CRUISE")).param_value == 9.0  # --param
        loss = await _read_param(probe, "COM_DL_LOSS_T")
        assert wire_to_int(loss.param_value) == 20  # an INT32 override, bytewise on the wire
    finally:
        probe.close()
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 20) == 0


def test_dfr_sim_refuses_an_unknown_airframe_or_parameter() -> None:
    for args, expected in (
        (["--airframe", "no_such_frame"], "known are dfr_quad, sihsim_quadx"),
        (["--param", "MPC_XY_CRUSE=9"], "unknown parameter MPC_XY_CRUSE"),
        (["--param", "COM_DL_LOSS_T=2.5"], "COM_DL_LOSS_T is INT32"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "dfr.cli", "sim", "--no-camera", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
        assert done.returncode == 2 and expected in done.stderr, done.stderr


def test_port_plans_that_bind_a_port_twice_are_refused() -> None:
    specs = [VehicleSpec(i, 47.0, 8.0, 400.0) for i in range(12)]
    clashing = PortPlan(gcs_local_base=14585)  # overlaps api_local_base + 5
    with pytest.raises(ValueError, match="twice"):
        Fleet(specs, ports=clashing)
    with pytest.raises(ValueError, match="unique"):
        Fleet([specs[0], specs[0]])
    Fleet(specs)  # 12 vehicles on default ports: allowed, with a warning about instance 10


def test_px4_shared_api_port_from_instance_9_is_available() -> None:
    ports = PortPlan(api_remote_shared_from=9).shifted(100)
    assert [ports.api_remote(i) for i in (0, 8, 9, 10, 30)] == [14640, 14648, 14649, 14649, 14649]
    assert PortPlan().api_remote(12) == 14552
    fleet = Fleet([VehicleSpec(i, 47.0, 8.0, 400.0) for i in range(12)], ports=ports)
    assert fleet.vehicles[11].api_link.remote == ("127.0.0.1", 14649)
