"""``dfr scenario run FILE... [--report DIR|OUT.json] [--against sim|URL] [--speed X]``.

Exit status: 0 when every expectation of every scenario held, 1 when one failed, 2 for a
scenario file that cannot be run (the message names the line; nothing runs then), 3
when the rig could not be brought up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from dfr.scenario.progress import ScenarioProgress
from dfr.scenario.scenario_file import Scenario, ScenarioFileError, load_scenario
from dfr.scenario.scenario_run import (
    ReportPaths,
    RunOptions,
    RunOutcome,
    ScenarioRunError,
    run_scenario,
)

API_KEY_ENV = "DFR_SCENARIO_API_KEY"


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def add_scenario_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scenario = sub.add_parser("scenario", help="SITL scenarios: scripted calls, faults, checks")
    actions = scenario.add_subparsers(dest="scenario_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="run scenario files; exit 0 iff every expectation held")
    run.add_argument("files", nargs="+", type=Path, metavar="FILE", help="sitl/scenarios/*.yaml")
    run.add_argument(
        "--report",
        type=Path,
        default=Path("scenario-reports"),
        metavar="DIR|OUT.json",
        help="OUT.json (one scenario): the report, its .png and .html beside it; otherwise a "
        "directory (default scenario-reports/)",
    )
    run.add_argument(
        "--against",
        default="sim",
        metavar="sim|URL",
        help="sim (default): start the service and the simulated fleet; URL: a running "
        "service (with --api-key, a key of the rig preset)",
    )
    run.add_argument("--speed", type=_positive, help="speed factor (default: the scenario's)")
    run.add_argument(
        "--api-key", help=f"with --against URL: the service's API key (or {API_KEY_ENV})"
    )
    run.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="with --against URL: the vehicles' MAVLink port offset (GCS port 18570+i+offset)",
    )
    run.add_argument(
        "--relay-offset",
        type=int,
        help="with --against URL: put the runner's own UDP relay between each vehicle and the "
        "service, so link_loss can cut it: the runner binds the vehicles' API ports "
        "(14540+i+port offset) and forwards to the same + RELAY_OFFSET, where the service "
        "listens (e.g. dfr serve --port-offset PORT_OFFSET+RELAY_OFFSET)",
    )
    run.add_argument("--jobs", type=int, default=1, help="scenarios run side by side (default 1)")
    run.add_argument("--check", action="store_true", help="only check the files, run nothing")


def _summary(outcome: RunOutcome) -> list[str]:
    lines = []
    for verdict in outcome.verdicts:
        mark = "pass" if verdict.passed else "FAIL"
        lines.append(
            f"{mark}  line {verdict.expectation.line}: {verdict.expectation.label}: {verdict.evidence}"
        )
    lines.append(
        f"report: {outcome.paths.json}  ({outcome.paths.page.name}, {outcome.paths.picture.name})"
    )
    return lines


async def _run_all(args: argparse.Namespace, scenarios: list[Scenario]) -> int:
    several = len(scenarios) > 1
    options = RunOptions(
        speed_factor=args.speed,
        against_url=None if args.against == "sim" else args.against,
        api_key=args.api_key or os.environ.get(API_KEY_ENV),
        port_offset=args.port_offset,
        relay_offset=args.relay_offset,
    )
    results: dict[str, bool | None] = {}
    jobs = asyncio.Semaphore(max(1, args.jobs))
    with ScenarioProgress() as progress:

        async def one(scenario: Scenario) -> None:
            async with jobs:
                paths = ReportPaths.for_target(args.report, scenario.name, several)
                try:
                    outcome = await run_scenario(
                        scenario,
                        paths,
                        options,
                        on_step=lambda r: progress.step(scenario.name, r),
                        on_status=lambda t: progress.status(scenario.name, t),
                    )
                except ScenarioRunError as exc:
                    results[scenario.name] = None
                    progress.done(scenario.name, False, [f"could not run: {exc}"])
                    return
                results[scenario.name] = outcome.passed
                progress.done(scenario.name, outcome.passed, _summary(outcome))

        async with asyncio.TaskGroup() as group:
            for scenario in scenarios:
                group.create_task(one(scenario), name=f"scenario {scenario.name}")
    if any(v is None for v in results.values()):
        return 3
    if several:
        passed = sum(1 for v in results.values() if v)
        print(f"{passed} of {len(results)} scenario(s) passed", flush=True)
    return 0 if all(results.values()) else 1


def run_scenario_command(args: argparse.Namespace) -> int:
    errors = []
    scenarios = []
    for path in args.files:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioFileError as exc:
            errors.append(str(exc))
    if errors:
        for error in errors:
            print(f"dfr scenario: {error}", file=sys.stderr)
        return 2
    names = [s.name for s in scenarios]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        print(f"dfr scenario: scenario name(s) used twice: {duplicated}", file=sys.stderr)
        return 2
    if args.check:
        print(f"dfr scenario: {len(scenarios)} file(s) ok", flush=True)
        return 0
    return asyncio.run(_run_all(args, scenarios))
