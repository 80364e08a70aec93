"""Airframe files: what a simulated vehicle is, in PX4's own syntax.

PX4 SITL starts an airframe script from ``ROMFS/px4fmu_common/init.d-posix/airframes/``
(chosen by ``PX4_SYS_AUTOSTART`` / ``PX4_SIM_MODEL``) whose ``param set-default NAME
VALUE`` lines change parameter defaults; parameters it does not name keep PX4's
defaults, and ``PX4_PARAM_<NAME>`` in the environment is applied after it. The simulator
does the same: :func:`load_airframe` reads such a file, :class:`~sitl.spec.VehicleSpec`
names it (``airframe``) and its ``params`` are applied after it.

The files in ``sitl/airframes/`` are found by bare name (``sihsim_quadx``, the default,
and ``dfr_quad``); anything with a ``/`` in it, or a :class:`~pathlib.Path`, is a file.
A file holds only comment lines (``#``), blank lines and ``param set-default NAME VALUE``
(optionally followed by a ``# comment``). Anything else, a parameter the simulator does
not have, or a value of the wrong type is an :class:`AirframeError` naming file and line.
A parameter set twice takes the last value, as in PX4.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from sitl.params import PARAM_DEFS, ParamType

logger = logging.getLogger(__name__)

AIRFRAMES_DIR = Path(__file__).resolve().parent / "airframes"
DEFAULT_AIRFRAME = "sihsim_quadx"  # PX4's SIH quadrotor X, SYS_AUTOSTART 10040


class AirframeError(ValueError):
    """An airframe that cannot be found or read; the message names file (and line)."""


def available_airframes() -> list[str]:
    """Bare names of the airframe files shipped in ``sitl/airframes/``."""
    return sorted(p.name for p in AIRFRAMES_DIR.iterdir() if p.is_file())


def airframe_path(name_or_path: str | Path) -> Path:
    """The file of an airframe: a bare name looks in ``sitl/airframes/``."""
    if isinstance(name_or_path, Path) or "/" in name_or_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise AirframeError(f"{path}: no such airframe file")
        return path
    path = AIRFRAMES_DIR / name_or_path
    if not name_or_path or not path.is_file():
        raise AirframeError(
            f"unknown airframe {name_or_path!r}: known are {', '.join(available_airframes())}"
            " (give a path, e.g. ./my_airframe, for a file of your own)"
        )
    return path


def parse_param_value(name: str, text: str) -> float | int:
    """A parameter value from text, checked against the parameter's type.

    Raises :class:`ValueError` for a name the simulator does not have, a non-integer
    for an INT32 parameter, or a non-number (or NaN/infinity) for a FLOAT one.
    """
    definition = PARAM_DEFS.get(name)
    if definition is None:
        raise ValueError(f"unknown parameter {name}")
    if definition.param_type is ParamType.INT32:
        try:
            return int(text, 10)
        except ValueError:
            raise ValueError(f"{name} is INT32, {text!r} is not an integer") from None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} is FLOAT, {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} is FLOAT, {text!r} is not a finite number")
    return value


def parse_airframe(text: str, source: str) -> dict[str, float | int]:
    """The parameters an airframe file's text sets; ``source`` names it in errors."""
    values: dict[str, float | int] = {}
    first_line: dict[str, int] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[:2] != ["param", "set-default"] or len(words) != 4:
            raise AirframeError(
                f"{source}:{line_no}: expected 'param set-default NAME VALUE', got {raw.strip()!r}"
            )
        name, value_text = words[2], words[3]
        try:
            value = parse_param_value(name, value_text)
        except ValueError as exc:
            raise AirframeError(f"{source}:{line_no}: {exc}") from None
        if name in values:
            logger.warning(
                "%s:%d: %s set again (line %d); the last value counts",
                source,
                line_no,
                name,
                first_line[name],
            )
        first_line.setdefault(name, line_no)
        values[name] = value
    return values


def load_airframe(name_or_path: str | Path) -> dict[str, float | int]:
    """The parameter defaults an airframe sets (name in ``sitl/airframes/`` or a path)."""
    path = airframe_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AirframeError(f"{path}: cannot read airframe file: {exc}") from exc
    return parse_airframe(text, str(path))
