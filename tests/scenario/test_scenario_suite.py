"""The shipped suite, with real processes: ``dfr scenario run`` starts ``dfr serve`` and
``dfr sim`` per scenario (side by side, ``--jobs``) at a high speed factor. Every
scenario but the deliberately wrong one passes; that one fails saying which expectation
and why; each report has its JSON, a real PNG and an HTML page that shows it. Then one
scenario runs ``--against URL`` a service started separately (``dfr sim`` standing in
for PX4 SITL) and gets the same verdicts as the self-started run.

Marked ``scenario`` (slow: the whole module runs the suite once, ~2 minutes on 2 cores).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import struct
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.child_stop import stop_child
from tests.ports import BASES, free_port_offset

pytestmark = pytest.mark.scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "sitl" / "scenarios"
SPEED = "20"
JOBS = "4"
WRONG = "wrong-expectation"
AGAINST = "gps-loss"  # its fault goes by MAVLink, which --against can reach
AGAINST_CUT = "link-loss"  # its fault is the runner's relay cut (--relay-offset)
RELAY_OFFSET = 20


def _cli(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dfr.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("DFR_")},
    )


@pytest.fixture(scope="module")
def suite(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, subprocess.CompletedProcess[str]]]:
    reports = tmp_path_factory.mktemp("reports")
    files = [str(p) for p in sorted(SCENARIOS.glob("*.yaml"))]
    done = _cli(
        "scenario",
        "run",
        *files,
        "--report",
        str(reports),
        "--speed",
        SPEED,
        "--jobs",
        JOBS,
        timeout_s=280,
    )
    yield reports, done


def _report(reports: Path, name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((reports / f"{name}.json").read_text())
    return body


def test_the_suite_passes_but_the_wrong_expectation(suite: tuple[Path, Any]) -> None:
    reports, done = suite
    assert done.returncode == 1, done.stdout[-4000:] + done.stderr[-4000:]  # one failed
    names = [p.stem for p in sorted(SCENARIOS.glob("*.yaml"))]
    failed = {n: _report(reports, n) for n in names if not _report(reports, n)["passed"]}
    assert list(failed) == [WRONG], {
        n: [e for e in r["expectations"] if not e["passed"]] for n, r in failed.items()
    }
    assert f"{len(names) - 1} of {len(names)} scenario(s) passed" in done.stdout


def test_the_wrong_expectation_fails_saying_which_and_why(suite: tuple[Path, Any]) -> None:
    reports, done = suite
    report = _report(reports, WRONG)
    failed = [e for e in report["expectations"] if not e["passed"]]
    assert [(e["kind"], e["args"]) for e in failed] == [
        ("drone_chosen", {"call": "WRONG-1", "drone": "e1"}),
        ("time_to_scene", {"call": "WRONG-1", "max": "30s"}),
    ]
    chosen, timed = failed
    assert chosen["evidence"].startswith("w1 was chosen, e1 expected (ranking by ETA: w1 ")
    took = re.search(r"on scene (\d+) s \(limit 30 s\)", timed["evidence"])
    assert took is not None and int(took.group(1)) > 30, timed["evidence"]
    assert report["verdict"] == "failed: 2 of 7 expectation(s)"
    # the terminal output says it too, with the file's line
    text = (SCENARIOS / f"{WRONG}.yaml").read_text().splitlines()
    assert text[chosen["line"] - 1].strip().startswith("- drone_chosen: {call: WRONG-1, drone: e1}")
    assert f"[{WRONG}]   FAIL  line {chosen['line']}: drone_chosen" in done.stdout


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_reports_have_json_png_and_html(suite: tuple[Path, Any]) -> None:
    reports, _done = suite
    report = _report(reports, "busy-hour")
    (call, *_rest) = report["calls"]
    (flight,) = call["flights"]
    for key in ("posted_s", "received_s", "decided_s"):
        assert call[key] is not None, key
    for key in ("launch_s", "airborne_s", "on_scene_s", "back_s"):
        assert flight[key] is not None, key
    assert call["posted_s"] <= call["decided_s"] <= flight["launch_s"] < flight["airborne_s"]
    assert flight["airborne_s"] < flight["on_scene_s"] < flight["back_s"]
    assert call["decision"]["candidates"][0]["drone_id"] == flight["drone_id"]
    assert flight["planned_distance_m"] > 0 and flight["flown_to_scene_m"] > 0
    picture = reports / report["files"]["picture"]
    assert _png_size(picture) == (800, 800)
    assert picture.stat().st_size > 20_000  # drawn, not blank
    page = (reports / report["files"]["page"]).read_text()
    assert f'<img src="{picture.name}"' in page
    assert "http://" not in page and "https://" not in page  # opens offline
    faults = _report(reports, "link-loss")["faults"]
    (cut,) = faults
    assert cut["kind"] == "link_loss" and cut["injected"]
    assert "link_lost" in [r.get("alert") for r in cut["reaction"]]


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def _process(args: list[str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("ab") as out:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dfr.cli",
            *args,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("DFR_")},
        )
    try:
        yield child
    finally:
        await stop_child(child)


async def test_against_a_running_service_gives_the_same_verdicts(
    suite: tuple[Path, Any], tmp_path: Path
) -> None:
    reports, _done = suite
    site = SCENARIOS / "sites" / "town"
    data = tmp_path / "data"
    # the service listens RELAY_OFFSET above the vehicles' ports: those must be free too
    offset = free_port_offset(bases=(*BASES, BASES[0] + RELAY_OFFSET))
    added = _cli("key", "add", "rig", "--preset", "rig", "--data-dir", str(data), timeout_s=60)
    assert added.returncode == 0, added.stderr
    key = re.search(r"key: (\S+)", added.stdout)
    assert key is not None
    port = _free_tcp_port()
    sim = ["sim", "--site", str(site), "--speed", SPEED, "--port-offset", str(offset)]
    sim += ["--airframe", "dfr_quad", "--no-camera", "--param", "SYS_FAILURE_EN=1"]
    serve = ["serve", "--site", str(site), "--data-dir", str(data), "--port", str(port)]
    serve += ["--port-offset", str(offset + RELAY_OFFSET)]  # behind the runner's relay
    out = tmp_path / "against"
    async with _process(sim, tmp_path / "sim.log"), _process(serve, tmp_path / "serve.log"):
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(200):
                try:
                    if (await client.get("/api/v1/session/notice")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        run = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dfr.cli",
            "scenario",
            "run",
            # link-loss first: its drone docks again; gps-loss leaves it landed in a field
            str(SCENARIOS / f"{AGAINST_CUT}.yaml"),
            str(SCENARIOS / f"{AGAINST}.yaml"),
            "--against",
            url,
            "--api-key",
            key.group(1),
            "--port-offset",
            str(offset),
            "--relay-offset",
            str(RELAY_OFFSET),
            "--speed",
            SPEED,
            "--report",
            str(out),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=ROOT,
        )
        output, _ = await asyncio.wait_for(run.communicate(), 240)
    assert run.returncode == 0, output.decode()[-4000:]

    def verdicts(report: dict[str, Any]) -> list[tuple[str, bool]]:
        return [(e["label"], e["passed"]) for e in report["expectations"]]

    for name in (AGAINST, AGAINST_CUT):
        against = json.loads((out / f"{name}.json").read_text())
        self_started = _report(reports, name)
        assert against["against"] == url and self_started["against"] == "sim"
        assert verdicts(against) == verdicts(self_started), name
        assert (out / f"{name}.png").is_file() and (out / f"{name}.html").is_file()
    (fault,) = json.loads((out / f"{AGAINST}.json").read_text())["faults"]
    assert fault["injected"] and "INJECT_FAILURE" in fault["how"]
    (cut,) = json.loads((out / f"{AGAINST_CUT}.json").read_text())["faults"]
    assert cut["injected"] and cut["how"] == "runner's UDP relay", cut
    assert "link_lost" in [r.get("alert") for r in cut["reaction"]]
