"""The fleet: ports per instance, site loading, many vehicles on one loop, and ``dfr sim``."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dfr.site import load_site
from sitl.fleet import Fleet, PortPlan, VehicleSpec
from sitl.probe import Probe
from sitl.runner import specs_in_a_row

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


def test_fleet_from_site_has_one_vehicle_per_drone_at_its_dock() -> None:
    site = load_site(ROOT / "flightplans" / "fort-worth")
    fleet = Fleet.from_site(site, ports=PortPlan().shifted(30000))
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
        assert vehicle.battery.capacity_wh == drone.performance.battery_wh
        assert vehicle.params.get("MPC_XY_CRUISE") == drone.performance.cruise_speed_mps


def test_drones_in_a_row_sit_metres_apart() -> None:
    specs = specs_in_a_row(3, (47.0, 8.0, 400.0))
    assert [s.instance for s in specs] == [0, 1, 2]
    fleet = Fleet(specs)
    east = [fleet.vehicles[0].frame.to_ne(s.home_lat_deg, s.home_lon_deg)[1] for s in specs]
    assert east == [pytest.approx(0.0), pytest.approx(5.0, abs=0.05), pytest.approx(10.0, abs=0.1)]


async def test_each_vehicle_talks_from_its_own_ports_with_its_own_sysid() -> None:
    offset = random.randrange(2000, 40000, 10)
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


def test_dfr_sim_starts_vehicles_and_stops_cleanly_on_sigint() -> None:
    offset = str(random.randrange(2000, 40000, 10))
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
    assert "sysid 1" in text and "sysid 2" in text
    assert "fleet stopped" in text


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
