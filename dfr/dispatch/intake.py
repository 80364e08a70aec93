"""CAD calls in: our own JSON and NENA EIDO (NENA-STA-021) documents, to one `CallData`.

EIDO carries its incident as linked components. We read:

* ``incidentComponent``: ``incidentTrackingIdentifier`` (our ``cad_id``; the document's
  ``$id`` if absent), ``incidentTypeCommonRegistryText`` (the nature),
  ``incidentCommonPriorityNumber`` (0–10, 10 most urgent), ``incidentStatusCommonRegistryText``
  (a cancelled/closed status cancels the call), ``lastUpdateTimeStamp``;
* ``locationComponent``: the one the incident's ``locationReference`` points at (else the
  first), with ``locationByValue`` a PIDF-LO document whose geodetic shape is a GML
  ``Point`` or a GeoShape ``Circle`` (centre and radius); a civic address, if present,
  becomes the address text;
* ``notesComponent``: ``notesActionCommentText`` lines, joined;
* ``dispatchComponent``: the responding units and their dispatch and arrival times
  (:mod:`dfr.dispatch.units`).

Nothing is half-taken: a document is checked whole (every number in it finite, since
JSON cannot carry inf or NaN back out; a radius a length) before a `CallData` exists,
and a `CallData` checks its own position and uncertainty when it is made.

EIDO priority 0–10 maps onto local CAD priority 1–5: 9–10 → 1, 7–8 → 2, 5–6 → 3,
3–4 → 4, 0–2 → 5.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dfr.dispatch.units import UnitReport, eido_units
from dfr.errors import InvalidInput

GML_NS = "http://www.opengis.net/gml"
GS_NS = "http://www.opengis.net/pidflo/1.0"
CA_NS = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
CANCELLED_STATUSES = frozenset({"cancelled", "canceled", "closed", "cleared"})
METRE_UOMS = frozenset({"urn:ogc:def:uom:EPSG::9001", "m", "metre", "meter", ""})


@dataclass(frozen=True, slots=True)
class CallData:
    """A call as dfr needs it, whatever format it came in."""

    cad_id: str
    source: str  # "json" | "eido"
    nature: str
    priority: int  # 1 = most urgent … 5
    lat_deg: float
    lon_deg: float
    received_at: datetime
    address: str = ""
    notes: str = ""
    uncertainty_m: float | None = None
    cancelled: bool = False
    raw: dict[str, Any] = field(default_factory=dict)
    units: tuple[UnitReport, ...] = ()  # the responding units this message reports

    def __post_init__(self) -> None:
        # the last line of defence: whatever parsed the call, it is sound before it is stored
        check_position(self.lat_deg, self.lon_deg, "location")
        if self.uncertainty_m is not None:
            check_radius(self.uncertainty_m, "location.uncertainty_m")
        if not 1 <= self.priority <= 5:
            raise InvalidInput("priority", f"must be 1 (most urgent) … 5, got {self.priority}")


def eido_priority_to_local(eido_priority: int) -> int:
    """EIDO 0–10 (10 most urgent) → local 1–5 (1 most urgent)."""
    if not 0 <= eido_priority <= 10:
        raise InvalidInput(
            "incidentComponent.incidentCommonPriorityNumber",
            f"must be an integer 0–10 (10 most urgent), got {eido_priority}",
        )
    return 5 - min(4, max(0, (eido_priority - 1) // 2))


def check_position(lat_deg: float, lon_deg: float, where: str) -> None:
    if not (math.isfinite(lat_deg) and -90.0 <= lat_deg <= 90.0):
        raise InvalidInput(f"{where}.lat", f"latitude must be -90…90 degrees, got {lat_deg}")
    if not (math.isfinite(lon_deg) and -180.0 <= lon_deg <= 180.0):
        raise InvalidInput(f"{where}.lon", f"longitude must be -180…180 degrees, got {lon_deg}")


def check_radius(radius_m: float, where: str) -> None:
    if not (math.isfinite(radius_m) and radius_m >= 0.0):
        raise InvalidInput(where, f"radius must be a finite length ≥ 0 metres, got {radius_m}")


def check_finite(value: Any, where: str = "") -> None:
    """Refuse a decoded JSON value with a non-finite number anywhere in it (Python's JSON
    reader takes ``Infinity``, ``NaN`` and ``1e400``; no JSON writer can give them back)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(
                where, f"{value} is not a finite number (JSON cannot carry inf or NaN)"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_finite(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_finite(item, f"{where}[{i}]")


def _component_list(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = doc.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(f"{name}[{i}]", "must be an object")
    return items


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if v is not None)
    return str(value)


def _parse_time(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(where, f"not an ISO 8601 timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        raise InvalidInput(where, f"timestamp needs a time zone (e.g. Z): {value!r}")
    return parsed.astimezone(UTC)


def parse_pidf_lo(xml_text: str, where: str) -> tuple[float, float, float | None, str]:
    """(lat, lon, radius_m or None, civic address) from a PIDF-LO document."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise InvalidInput(where, f"PIDF-LO is not well-formed XML: {exc}") from exc
    radius_m: float | None = None
    pos = None
    circle = root.find(f".//{{{GS_NS}}}Circle")
    if circle is not None:
        pos = circle.find(f"{{{GML_NS}}}pos")
        radius = circle.find(f"{{{GS_NS}}}radius")
        if radius is None or radius.text is None:
            raise InvalidInput(where, "PIDF-LO Circle has no gs:radius")
        uom = radius.get("uom", "")
        if uom not in METRE_UOMS:
            raise InvalidInput(where, f"PIDF-LO Circle radius must be in metres, got uom={uom!r}")
        try:
            radius_m = float(radius.text)
        except ValueError as exc:
            raise InvalidInput(where, f"PIDF-LO radius is not a number: {radius.text!r}") from exc
        check_radius(radius_m, where)
    else:
        point = root.find(f".//{{{GML_NS}}}Point")
        if point is not None:
            pos = point.find(f"{{{GML_NS}}}pos")
    civic = root.find(f".//{{{CA_NS}}}civicAddress")
    address = ""
    if civic is not None:
        parts = [
            (child.text or "").strip()
            for child in civic
            if child.tag.split("}")[-1]
            in {"HNO", "HNS", "PRD", "RD", "STS", "POD", "A3", "A1", "PC"}
        ]
        address = " ".join(p for p in parts if p)
    if pos is None or not (pos.text or "").strip():
        raise InvalidInput(
            where, "PIDF-LO has no geodetic gml:Point or gs:Circle with a gml:pos (lat lon)"
        )
    try:
        numbers = [float(n) for n in (pos.text or "").split()]
    except ValueError as exc:
        raise InvalidInput(where, f"gml:pos must be 'LAT LON [ALT]', got {pos.text!r}") from exc
    if len(numbers) not in (2, 3):
        raise InvalidInput(where, f"gml:pos must be 'LAT LON [ALT]', got {pos.text!r}")
    lat, lon = numbers[:2]
    check_position(lat, lon, where)
    if len(numbers) == 3 and not math.isfinite(numbers[2]):
        raise InvalidInput(where, f"gml:pos altitude must be a finite number, got {numbers[2]}")
    return lat, lon, radius_m, address


def _eido_location(
    doc: dict[str, Any], incident: dict[str, Any]
) -> tuple[float, float, float | None, str]:
    """(lat, lon, uncertainty radius, civic address) of the location the incident refers
    to (``locationReference``; else the first ``locationComponent``)."""
    locations = _component_list(doc, "locationComponent")
    if not locations:
        raise InvalidInput("locationComponent", "missing: an EIDO needs a locationComponent")
    ref = incident.get("locationReference")
    ref_id = ref.get("$ref") if isinstance(ref, dict) else ref
    index, location = 0, locations[0]
    if ref_id:
        for i, candidate in enumerate(locations):
            if candidate.get("$id") == ref_id:
                index, location = i, candidate
                break
        else:
            raise InvalidInput(
                "incidentComponent.locationReference",
                f"points at {ref_id!r}, but no locationComponent has that $id",
            )
    where = f"locationComponent[{index}].locationByValue"
    by_value = location.get("locationByValue")
    if not isinstance(by_value, str) or not by_value.strip():
        raise InvalidInput(where, "missing: dfr needs the location by value (PIDF-LO XML)")
    return parse_pidf_lo(by_value, where)


def parse_eido(doc: Any, *, now: datetime) -> CallData:
    """Turn an EIDO JSON document into a :class:`CallData`, or raise `InvalidInput`."""
    if not isinstance(doc, dict):
        raise InvalidInput("", "an EIDO document must be a JSON object")
    check_finite(doc)
    incidents = _component_list(doc, "incidentComponent")
    if not incidents:
        raise InvalidInput("incidentComponent", "missing: an EIDO needs an incidentComponent")
    incident = incidents[0]
    cad_id = _text(incident.get("incidentTrackingIdentifier") or doc.get("$id")).strip()
    if not cad_id:
        raise InvalidInput(
            "incidentComponent.incidentTrackingIdentifier",
            "missing (and the document has no $id to use instead)",
        )
    raw_priority = incident.get("incidentCommonPriorityNumber")
    if isinstance(raw_priority, bool) or not isinstance(raw_priority, int):
        raise InvalidInput(
            "incidentComponent.incidentCommonPriorityNumber",
            f"must be an integer 0–10 (10 most urgent), got {raw_priority!r}",
        )
    priority = eido_priority_to_local(raw_priority)
    nature = _text(incident.get("incidentTypeCommonRegistryText")) or _text(
        incident.get("incidentTypeLocalRegistryText")
    )
    status = _text(incident.get("incidentStatusCommonRegistryText")).strip().lower()

    lat, lon, radius_m, address = _eido_location(doc, incident)

    notes = "\n".join(
        _text(n.get("notesActionCommentText"))
        for n in _component_list(doc, "notesComponent")
        if n.get("notesActionCommentText")
    )
    received = _parse_time(
        incident.get("lastUpdateTimeStamp") or doc.get("lastUpdateTimeStamp"),
        "incidentComponent.lastUpdateTimeStamp",
    )
    return CallData(
        cad_id=cad_id,
        source="eido",
        nature=nature or "unknown",
        priority=priority,
        lat_deg=lat,
        lon_deg=lon,
        uncertainty_m=radius_m,
        address=address,
        notes=notes,
        received_at=received or now,
        cancelled=status in CANCELLED_STATUSES,
        raw=doc,
        units=eido_units(_component_list(doc, "dispatchComponent"), _parse_time),
    )
