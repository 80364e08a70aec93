"""The ``dfr`` command. The only place that configures logging or prints."""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Sequence

from dfr.errors import DfrError

DEFAULT_SITE = "flightplans/fort-worth"


def _lat_lon(text: str) -> tuple[float, float]:
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected LAT,LON in degrees, got {text!r}") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise argparse.ArgumentTypeError(f"LAT,LON out of range: {text!r}")
    return lat, lon


def _lat_lon_alt(text: str) -> tuple[float, float, float]:
    try:
        lat_s, lon_s, alt_s = text.split(",")
        lat, lon, alt = float(lat_s), float(lon_s), float(alt_s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected LAT,LON,ALT_AMSL_M, got {text!r}") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise argparse.ArgumentTypeError(f"LAT,LON out of range: {text!r}")
    return lat, lon, alt


def _wind(text: str) -> tuple[float, float]:
    try:
        dir_s, speed_s = text.split(",")
        direction, speed = float(dir_s), float(speed_s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected DIR_DEG,SPEED_MPS (direction the wind blows FROM), got {text!r}"
        ) from exc
    if speed < 0:
        raise argparse.ArgumentTypeError(f"wind speed must be >= 0, got {speed}")
    return direction % 360.0, speed


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _airframe(text: str) -> str:
    """An airframe name (sitl/airframes/) or file, checked by loading it."""
    from sitl.airframe import AirframeError, load_airframe

    try:
        load_airframe(text)
    except AirframeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def _signing_key(text: str) -> bytes:
    """A MAVLink 2 signing key: 64 hex digits."""
    from sitl.spec import parse_signing_key

    try:
        return parse_signing_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _signing_key_file(path: str) -> bytes:
    """A file holding a MAVLink 2 signing key as 64 hex digits."""
    try:
        with open(path, encoding="ascii") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise argparse.ArgumentTypeError(f"{path}: {exc}") from exc
    try:
        return _signing_key(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{path}: {exc}") from exc


def _param(text: str) -> tuple[str, float | int]:
    """NAME=VALUE for a simulator (PX4) parameter, checked against its type."""
    from sitl.airframe import parse_param_value

    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), parse_param_value(name.strip(), value.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dfr", description="Drone-as-First-Responder control service and simulated PX4 fleet"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser("sim", help="run the simulated PX4 fleet alone, on PX4 SITL ports")
    where = sim.add_mutually_exclusive_group()
    where.add_argument("--site", help="site directory: one vehicle per drone, at its dock")
    where.add_argument("--drones", type=int, help="number of vehicles for a site-less run")
    sim.add_argument(
        "--home",
        type=_lat_lon_alt,
        default=(47.397742, 8.545594, 488.0),
        help="LAT,LON,ALT_AMSL_M of vehicle 0 with --drones (default: PX4 SITL's Zurich home)",
    )
    sim.add_argument(
        "--speed",
        type=_positive,
        default=1.0,
        help="physics speed factor (like PX4_SIM_SPEED_FACTOR)",
    )
    sim.add_argument(
        "--port-offset", type=int, default=0, help="add this to every MAVLink/video port"
    )
    sim.add_argument(
        "--api-port-base",
        type=int,
        default=14540,
        help="vehicle i sends its API link to this port + i (default PX4 SITL's 14540; "
        "sites from dfr.fleet_site use 15540, clear of QGroundControl's 14550)",
    )
    sim.add_argument(
        "--wind", type=_wind, default=(0.0, 0.0), help="DIR_DEG,SPEED_MPS constant wind (from)"
    )
    sim.add_argument(
        "--gust-mps", type=float, default=0.0, help="gust amplitude on top of the wind"
    )
    sim.add_argument("--no-camera", action="store_true", help="do not stream simulated video")
    sim.add_argument(
        "--airframe",
        type=_airframe,
        default="sihsim_quadx",
        metavar="NAME|FILE",
        help="PX4 airframe file every vehicle flies: a name in sitl/airframes/ "
        "(sihsim_quadx: PX4's SIH quad and its defaults; dfr_quad: 15 m/s DFR quad) or a path "
        "(default: sihsim_quadx)",
    )
    sim.add_argument(
        "--param",
        type=_param,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="PX4 parameter override, after the airframe (like PX4_PARAM_NAME); repeatable",
    )
    key = sim.add_mutually_exclusive_group()
    key.add_argument(
        "--signing-key",
        type=_signing_key,
        metavar="HEX",
        help="MAVLink 2 signing key (64 hex digits): vehicles sign what they send and "
        "ignore unsigned messages, as PX4 with a key provisioned (see README: Signed links)",
    )
    key.add_argument(
        "--signing-key-file",
        type=_signing_key_file,
        dest="signing_key",
        metavar="FILE",
        help="the same key read from a file (keeps it out of the process list)",
    )

    plan = sub.add_parser("plan", help="plan a legal route and print it")
    plan.add_argument("--site", default=DEFAULT_SITE, help="site directory")
    plan.add_argument("--from", dest="origin", type=_lat_lon, help="LAT,LON start")
    plan.add_argument("--to", dest="goal", type=_lat_lon, required=True, help="LAT,LON goal")
    plan.add_argument("--format", choices=("geojson", "plan"), default="geojson")
    plan.add_argument("--wind", type=_wind, default=(0.0, 0.0), help="DIR_DEG,SPEED_MPS (from)")
    plan.add_argument("--rank", action="store_true", help="rank every dock's drones for --to")
    plan.add_argument("--drone", help="drone id whose performance to use (default: first drone)")

    from dfr.audit.audit_cli import add_audit_parser

    add_audit_parser(sub)
    from dfr.auth.user_cli import add_user_parser

    add_user_parser(sub)
    from dfr.auth.key_cli import add_key_parser

    add_key_parser(sub)
    from dfr.scenario.scenario_cli import add_scenario_parser

    add_scenario_parser(sub)

    for name, text in (
        ("demo", "the service with the simulated fleet of the site, in one process"),
        ("serve", "the service alone, against the drones the site names"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--site", help=f"site directory (default: {DEFAULT_SITE})")
        cmd.add_argument("--host", help="address to listen on (default 127.0.0.1)")
        cmd.add_argument("--port", type=int, help="HTTP port (default 8080)")
        cmd.add_argument("--data-dir", help="database and recordings (default ./var)")
        cmd.add_argument(
            "--token", help="pilot token for automation (or DFR_API_TOKEN); printed if generated"
        )
        cmd.add_argument("--port-offset", type=int, help="added to every drone's MAVLink port")
        cmd.add_argument(
            "--tls-cert",
            metavar="FILE",
            help="serve HTTPS with this PEM certificate (or DFR_TLS_CERT_FILE)",
        )
        cmd.add_argument(
            "--tls-key", metavar="FILE", help="the certificate's PEM key (or DFR_TLS_KEY_FILE)"
        )
        if name == "demo":
            cmd.add_argument("--speed", type=_positive, default=1.0, help="simulator speed factor")
            cmd.add_argument("--no-camera", action="store_true", help="no simulated video")
            cmd.add_argument(
                "--airframe",
                type=_airframe,
                default="dfr_quad",
                metavar="NAME|FILE",
                help="PX4 airframe file the simulated drones fly (default: dfr_quad, what "
                "the sample site describes; sihsim_quadx: PX4's defaults)",
            )

    return parser


def _run_service(args: argparse.Namespace) -> int:
    import asyncio

    from pydantic import SecretStr, ValidationError

    from dfr.auth.user_cli import first_demo_user
    from dfr.config import Settings
    from dfr.server import run_server
    from dfr.site import load_site

    overrides: dict[str, object] = {}
    for arg, key in (
        ("site", "site"),
        ("host", "host"),
        ("port", "port"),
        ("data_dir", "data_dir"),
        ("port_offset", "mavlink_port_offset"),
        ("tls_cert", "tls_cert_file"),
        ("tls_key", "tls_key_file"),
    ):
        if getattr(args, arg) is not None:
            overrides[key] = getattr(args, arg)
    if args.token is not None:
        overrides["api_token"] = SecretStr(args.token)
    if args.command == "demo" and "site" not in overrides:
        overrides["site"] = DEFAULT_SITE
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        print(f"dfr {args.command}: bad setting: {exc}", file=sys.stderr)
        return 2
    from dfr.tls import check_tls_files

    check_tls_files(settings)  # a clear error before the site loads or anything starts
    site = load_site(settings.site)
    generated = args.token is None and settings.api_token is None
    demo = args.command == "demo"
    first_user = asyncio.run(first_demo_user(settings)) if demo else None

    def ready(url: str, token: str) -> None:
        print(f"dfr {args.command}: site {site.name!r}, {len(site.drones)} drones", flush=True)
        print(f"  console:  {url}  (sign in as a user: dfr user add NAME --role pilot)", flush=True)
        print(f"  API docs: {url}docs  (after signing in)", flush=True)
        if first_user is not None:
            account = first_user.account
            print(f"  first admin 'demo', shown once: password {first_user.password}", flush=True)
            print(
                f"    TOTP secret {account.totp_secret} (enrol: {first_user.totp_uri})", flush=True
            )
            print(
                f"    code now: .venv/bin/python -m dfr.auth.totp {account.totp_secret}", flush=True
            )
        if not (demo and generated):
            return  # a configured token is the operator's; never printed
        print(f"  pilot token for machines (this run only): {token}", flush=True)
        print(
            f"  try: curl -s -X POST {url}api/v1/calls -H 'Authorization: Bearer {token}' "
            '-H \'Content-Type: application/json\' -d \'{"cad_id": "DEMO-1", "nature": '
            '"shots fired", "priority": 1, "location": {"lat": 32.7555, "lon": -97.3308}}\'',
            flush=True,
        )

    asyncio.run(
        run_server(
            settings,
            site,
            fleet_speed=args.speed if demo else None,
            fleet_camera=demo and not args.no_camera,
            fleet_airframe=args.airframe if demo else "dfr_quad",
            on_ready=ready,
        )
    )
    return 0


def _run_sim(args: argparse.Namespace) -> int:
    """``dfr sim``: the site's drones at their docks (``--site``), or ``--drones N``."""
    from sitl.runner import run_sim

    if args.site is None:
        return run_sim(args)
    from dfr.sim_fleet import specs_for_site
    from dfr.site import load_site

    specs = specs_for_site(
        load_site(args.site),
        airframe=args.airframe,
        params=dict(args.param),
        api_port_base=args.api_port_base,
    )
    return run_sim(args, specs)


def _configure_logging(verbosity: int, *, quiet: bool) -> None:
    """INFO for the long-running commands, WARNING for one-shot ones; -v adds detail."""
    base = logging.WARNING if quiet else logging.INFO
    level = base - 10 * verbosity
    logging.basicConfig(
        level=max(level, logging.DEBUG),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(
        args.verbose, quiet=args.command in ("plan", "audit", "user", "key", "scenario")
    )
    try:
        if args.command == "sim":
            return _run_sim(args)
        if args.command in ("demo", "serve"):
            return _run_service(args)
        if args.command == "plan":
            from dfr.planning.plan_cli import run_plan

            return run_plan(args)
        if args.command == "user":
            from dfr.auth.user_cli import run_user

            return run_user(args)
        if args.command == "key":
            from dfr.auth.key_cli import run_key

            return run_key(args)
        if args.command == "scenario":
            from dfr.scenario.scenario_cli import run_scenario_command

            return run_scenario_command(args)
        if args.command == "audit":
            from dfr.audit.audit_cli import run_audit

            return run_audit(args)
    except DfrError as exc:
        print(f"dfr {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"dfr {args.command}: {exc.strerror}: another dfr sim, dfr demo or PX4 SITL is "
            "using these ports; stop it, or shift this one's ports with --port-offset N",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `dfr plan … | head`
        sys.stderr.close()
        return 0
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
