"""A scenario file (``sitl/scenarios/*.yaml``): read, checked against its JSON Schema
(``sitl/scenarios/scenario.schema.json``) with errors that name the line, and turned into
frozen values.

A schema error's path inside the document (``timeline/3/fault/kind``) is mapped to the
YAML node it names through the node marks of ``yaml.compose``, so the error reads
``main-path.yaml:27: timeline[3].fault.kind: 'gps' is not one of …``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.exceptions
import yaml

from dfr.errors import DfrError

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "sitl" / "scenarios" / "scenario.schema.json"
DEFAULT_SPEED_FACTOR = 10.0
DEFAULT_MAX_DURATION_S = 1200.0
DEFAULT_AIRFRAME = "dfr_quad"
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(s|m)$")


class ScenarioFileError(DfrError):
    """A scenario file that cannot be run; the message names the file and the line."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


@dataclass(frozen=True, slots=True)
class Trigger:
    call: str
    phase: str


@dataclass(frozen=True, slots=True)
class Step:
    """One timeline action: ``kind`` is its key (call, eido, bad_call, cad_update, pilot,
    fault, dock_hold, dock_release), ``body`` its value; it runs at ``at_s`` scenario seconds and, with ``when``,
    ``after_s`` after that call's flight reached the phase."""

    index: int
    id: str
    kind: str
    body: Any
    at_s: float
    when: Trigger | None
    after_s: float
    line: int

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id}"


@dataclass(frozen=True, slots=True)
class Expectation:
    index: int
    kind: str
    args: Mapping[str, Any]
    line: int

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.kind}({args})"


@dataclass(frozen=True, slots=True)
class Wind:
    from_deg: float = 0.0
    speed_mps: float = 0.0
    gust_mps: float = 0.0


@dataclass(frozen=True, slots=True)
class FleetChoice:
    drones: tuple[str, ...] | None = None  # None: every drone of the site
    airframe: str = DEFAULT_AIRFRAME
    params: Mapping[str, float | int] = field(default_factory=dict)
    camera: bool = False  # video streamed and recorded (slower); off by default


@dataclass(frozen=True, slots=True)
class SiteChoice:
    """Either a directory (with policy overrides) or a site written inline."""

    directory: Path | None
    policy: Mapping[str, Any]
    inline_site: Mapping[str, Any] | None = None
    inline_airspace: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    path: Path
    name: str
    description: str
    site: SiteChoice
    fleet: FleetChoice
    wind: Wind
    speed_factor: float
    max_duration_s: float
    steps: tuple[Step, ...]
    expectations: tuple[Expectation, ...]

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


def duration_s(value: float | int | str) -> float:
    """Seconds from a schema duration: a number, or ``"5s"`` / ``"1.5m"``."""
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"not a duration: {value!r}")
    number, unit = float(match.group(1)), match.group(2)
    return number * 60.0 if unit == "m" else number


@cache
def scenario_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


# -- where a path of the document is in its text -----------------------------------------


def _node_at(root: yaml.Node, path: Sequence[str | int]) -> yaml.Node:
    """The deepest node of ``root`` that ``path`` reaches."""
    node = root
    for key in path:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == str(key)), None)
            if found is None:
                return node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return node
            node = node.value[key]
        else:
            return node
    return node


def _key_node(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((k for k, _v in node.value if k.value == key), None)
    return None


def line_of(root: yaml.Node, path: Sequence[str | int]) -> int:
    """1-based line of the node ``path`` names (or its deepest existing parent)."""
    return int(_node_at(root, path).start_mark.line) + 1


def _shown_path(path: Iterable[str | int]) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text or "(top level)"


def _specific(
    error: jsonschema.exceptions.ValidationError,
) -> jsonschema.exceptions.ValidationError:
    """For a oneOf/anyOf, the alternative's error that went deepest (the likely intent)."""
    if error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None and len(best.absolute_path) >= len(error.absolute_path):
            return _specific(best)
    return error


def _located(root: yaml.Node, error: jsonschema.exceptions.ValidationError) -> tuple[int, str]:
    error = _specific(error)
    path = list(error.absolute_path)
    line = line_of(root, path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        allowed = set(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        node = _key_node(_node_at(root, path), extra[0]) if extra else None
        if node is not None:
            line = int(node.start_mark.line) + 1
        return line, f"{_shown_path(path)}: unknown field(s) {', '.join(map(repr, extra))}"
    return line, f"{_shown_path(path)}: {error.message}"


def check_document(path: Path, text: str) -> Any:
    """The parsed document, or :class:`ScenarioFileError` naming the first bad line."""
    try:
        root = yaml.compose(text)
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = int(mark.line) + 1 if mark is not None else None
        raise ScenarioFileError(path, line, f"not YAML: {exc.problem}") from exc
    if root is None:
        raise ScenarioFileError(path, 1, "empty file")
    validator = jsonschema.Draft202012Validator(scenario_schema())
    errors = sorted(
        (_located(root, e) for e in validator.iter_errors(document)), key=lambda e: e[0]
    )
    if errors:
        line, message = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ScenarioFileError(path, line, message + more)
    return document, root


# -- values ---------------------------------------------------------------------------------

STEP_KINDS = (
    "call",
    "eido",
    "bad_call",
    "cad_update",
    "pilot",
    "fault",
    "dock_hold",
    "dock_release",
)


def _site_choice(path: Path, raw: Any) -> SiteChoice:
    def directory(text: str) -> Path:
        given = Path(text)
        for candidate in (given, path.parent / given):
            if (candidate / "site.yaml").is_file():
                return candidate
        raise FileNotFoundError(text)

    if isinstance(raw, str):
        return SiteChoice(directory(raw), {})
    if "inline" in raw:
        inline = raw["inline"]
        return SiteChoice(None, {}, inline["site"], inline["airspace"])
    return SiteChoice(directory(raw["dir"]), dict(raw.get("policy", {})))


def _step_id(kind: str, body: Any, index: int, given: str | None) -> str:
    if given:
        return given
    if kind == "call":
        return str(body["cad_id"])
    if kind == "eido" and isinstance(body, Mapping):  # its call is named by its tracking id
        incident = body.get("incidentComponent")
        incident = incident[0] if isinstance(incident, list) and incident else incident
        if isinstance(incident, Mapping) and incident.get("incidentTrackingIdentifier"):
            return str(incident["incidentTrackingIdentifier"])
    return f"{kind}-{index + 1}"


def load_scenario(path: Path | str) -> Scenario:
    """Read and check a scenario file; :class:`ScenarioFileError` names file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(path, None, f"cannot read: {exc}") from exc
    document, root = check_document(path, text)
    try:
        site = _site_choice(path, document["site"])
    except FileNotFoundError as exc:
        raise ScenarioFileError(
            path, line_of(root, ["site"]), f"site: no site.yaml in {exc.args[0]!r}"
        ) from exc
    steps = []
    for index, raw in enumerate(document["timeline"]):
        kind = next(k for k in STEP_KINDS if k in raw)
        when = raw.get("when")
        steps.append(
            Step(
                index=index,
                id=_step_id(kind, raw[kind], index, raw.get("id")),
                kind=kind,
                body=raw[kind],
                at_s=duration_s(raw.get("at", 0)),
                when=Trigger(when["call"], when["phase"]) if when else None,
                after_s=duration_s(raw.get("after", 0)),
                line=line_of(root, ["timeline", index]),
            )
        )
    _check_references(path, root, steps, document["expect"])
    expectations = tuple(
        Expectation(
            index=index,
            kind=next(iter(raw)),
            args=dict(next(iter(raw.values())) or {}),
            line=line_of(root, ["expect", index]),
        )
        for index, raw in enumerate(document["expect"])
    )
    fleet = document.get("fleet", {})
    wind = document.get("wind", {})
    return Scenario(
        path=path,
        name=document["name"],
        description=str(document.get("description", "")).strip(),
        site=site,
        fleet=FleetChoice(
            drones=tuple(fleet["drones"]) if "drones" in fleet else None,
            airframe=fleet.get("airframe", DEFAULT_AIRFRAME),
            params=dict(fleet.get("params", {})),
            camera=bool(fleet.get("camera", False)),
        ),
        wind=Wind(
            from_deg=float(wind.get("from_deg", 0.0)),
            speed_mps=float(wind.get("speed_mps", 0.0)),
            gust_mps=float(wind.get("gust_mps", 0.0)),
        ),
        speed_factor=float(document.get("speed_factor", DEFAULT_SPEED_FACTOR)),
        max_duration_s=duration_s(document.get("max_duration", DEFAULT_MAX_DURATION_S)),
        steps=tuple(steps),
        expectations=expectations,
    )


def _check_references(path: Path, root: yaml.Node, steps: list[Step], expect: Any) -> None:
    """Calls and steps named by triggers, actions and expectations must exist."""
    calls = {s.id for s in steps if s.kind in ("call", "eido")}
    ids = [s.id for s in steps]
    for step in steps:
        if ids.count(step.id) > 1:
            raise ScenarioFileError(path, step.line, f"timeline: step id {step.id!r} used twice")
        named = [step.when.call] if step.when else []
        if step.kind in ("cad_update", "pilot"):
            named.append(step.body["call"])
        if step.kind == "pilot" and "from_call" in step.body:
            if step.body["action"] != "divert":
                raise ScenarioFileError(
                    path, step.line, "timeline: from_call is only for the divert action"
                )
            named.append(step.body["from_call"])
        for name in named:
            if name not in calls:
                raise ScenarioFileError(path, step.line, f"timeline: no call {name!r} in it")
    for index, raw in enumerate(expect):
        args = next(iter(raw.values())) or {}
        line = line_of(root, ["expect", index])
        if "call" in args and args["call"] not in calls:
            raise ScenarioFileError(path, line, f"expect: no call {args['call']!r} in the timeline")
        if "step" in args and args["step"] not in ids:
            raise ScenarioFileError(path, line, f"expect: no step {args['step']!r} in the timeline")
