"""docker-compose.yml, checked without Docker (none here): its PX4 SITL instances follow
ARCHITECTURE.md's PX4 SITL conventions and start on the docks of the site the service
flies, the service is built here and serves that site, and the scenario runner only
comes with its profile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from dfr.site import load_site

ROOT = Path(__file__).resolve().parents[1]
API_PORT_BASE = 14540  # the service listens udpin://0.0.0.0:14540+i (ARCHITECTURE.md)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def px4_services(services: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """PX4 containers by instance number (from ``-i N`` in their command)."""
    found: dict[int, dict[str, Any]] = {}
    for service in services.values():
        if str(service.get("image", "")).startswith("px4io/"):
            command = service["command"]
            found[int(command[command.index("-i") + 1])] = service
    return found


def site_dir(services: dict[str, Any]) -> Path:
    command = services["service"]["command"]
    return ROOT / Path(command[command.index("--site") + 1]).relative_to("/app")


def test_one_px4_sih_quadrotor_per_site_drone_on_its_dock_at_its_ports() -> None:
    services = compose()["services"]
    site = load_site(site_dir(services))
    px4 = px4_services(services)
    assert sorted(px4) == list(range(len(site.drones))) == [0, 1, 2, 3]
    for drone in site.drones:
        port = int(re.fullmatch(r"udpin://0\.0\.0\.0:(\d+)", drone.mavlink_url).group(1))  # type: ignore[union-attr]
        instance = port - API_PORT_BASE  # PX4 instance i sends its API link to 14540+i
        service = px4[instance]
        env = service["environment"]
        dock = site.dock(drone.dock)
        assert service["image"].split(":")[0] == "px4io/px4-sitl"  # PX4's own SIH image
        assert env["PX4_SYS_AUTOSTART"] == "10040"  # sihsim_quadx, headless
        assert (float(env["PX4_HOME_LAT"]), float(env["PX4_HOME_LON"])) == (dock.lat, dock.lon)
        assert float(env["PX4_HOME_ALT"]) == dock.ground_alt_amsl_m
        # PX4 sends to 127.0.0.1:14540+i: only the host's network carries that to the service
        assert service["network_mode"] == "host"


def test_the_service_is_built_here_and_reaches_the_vehicles() -> None:
    services = compose()["services"]
    service = services["service"]
    assert service["build"] == "." and (ROOT / "Dockerfile").is_file()
    assert service["network_mode"] == "host"
    command = service["command"]
    assert command[0] == "serve" and command[command.index("--port") + 1] == "8080"
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert "DFR_API_TOKEN" in service["environment"]
    assert set(service["depends_on"]) == {f"px4-{i}" for i in px4_services(services)}
    # the site it serves is in the image (the Dockerfile copies flightplans/)
    assert "COPY flightplans ./flightplans" in (ROOT / "Dockerfile").read_text()


def test_the_runner_only_comes_with_the_scenario_profile() -> None:
    services = compose()["services"]
    runner = services["runner"]
    assert runner["profiles"] == ["scenario"]
    assert [s for s, spec in services.items() if "profiles" in spec] == ["runner"]
    command = runner["command"]
    assert command[:2] == ["scenario", "run"]
    assert command[command.index("--against") + 1] == "http://service:8080"
    assert (ROOT / command[-1]).is_file()  # a shipped scenario for the compose site
    assert "fort-worth" in command[-1] and command[command.index("--speed") + 1] == "1"
    assert "service:127.0.0.1" in runner["extra_hosts"]
