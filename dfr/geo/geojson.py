"""Read airspace zones from GeoJSON (``airspace.geojson`` of a site).

Each Feature is one zone. Geometry: Polygon or MultiPolygon (lon, lat), or a Point
with ``properties.radius_m`` for a circle. Properties:

``kind``       ``no_fly`` | ``ceiling`` | ``boundary`` (required)
``name``       text (required)
``id``         unique id (default: the feature index)
``buffer_m``   horizontal safety margin, >= 0 (default 0)
``floor_m``    lowest altitude of a no-fly zone (default 0)
``ceiling_m``  ceiling cell: highest legal altitude (required); no-fly: top (default none)
``datum``      ``agl`` (default) | ``amsl`` for floor_m / ceiling_m
``source``     where the zone comes from (chart, NOTAM, FAA UASFM …)
``active``     optional list of ``{"start": ISO 8601, "end": ISO 8601}`` windows

Errors are :class:`ConfigError` naming the file, the feature and the field.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from dfr.errors import ConfigError
from dfr.geo.json_file import read_json_file
from dfr.geo.zone import ActiveWindow, AltitudeDatum, Circle, Zone, ZoneKind

_KNOWN = {
    "kind",
    "name",
    "id",
    "buffer_m",
    "floor_m",
    "ceiling_m",
    "datum",
    "source",
    "active",
    "radius_m",
    "note",
}


def load_geojson_zones(path: Path | str) -> list[Zone]:
    """Read and validate a GeoJSON FeatureCollection of zones."""
    path = Path(path)
    raw = read_json_file(path)
    return parse_geojson_zones(raw, str(path))


def parse_geojson_zones(raw: Any, origin: str) -> list[Zone]:
    if not isinstance(raw, dict) or raw.get("type") != "FeatureCollection":
        raise ConfigError(f"{origin}: expected a GeoJSON FeatureCollection at the top level")
    features = raw.get("features")
    if not isinstance(features, list):
        raise ConfigError(f"{origin}: features: expected a list")
    zones: list[Zone] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(features):
        zone = _parse_feature(feature, f"{origin}: features[{i}]", i)
        if zone.id in seen:
            raise ConfigError(
                f"{zone.origin}: properties.id: '{zone.id}' is already used by "
                f"features[{seen[zone.id]}]"
            )
        seen[zone.id] = i
        zones.append(zone)
    return zones


def _number(
    props: dict[str, Any], key: str, where: str, default: float | None, minimum: float | None = None
) -> float | None:
    value = props.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: properties.{key}: expected a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: properties.{key}: must be >= {minimum:g}, got {value!r}")
    return float(value)


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected an ISO 8601 date-time string, got {value!r}")
    try:
        t = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: not an ISO 8601 date-time: {value!r}") from exc
    if t.tzinfo is None:
        raise ConfigError(f"{where}: {value!r} has no timezone (add Z or an offset)")
    return t


def _parse_feature(feature: Any, where: str, index: int) -> Zone:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ConfigError(f"{where}: expected a GeoJSON Feature")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise ConfigError(f"{where}: properties: expected an object with kind and name")
    name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: properties.name: required (a non-empty string)")
    where = f"{where} ('{name}')"
    kind = _kind(props, where)
    _check_known_fields(props, where)
    zone_id = props.get("id", f"z{index}")
    if not isinstance(zone_id, str | int):
        raise ConfigError(f"{where}: properties.id: expected a string, got {zone_id!r}")
    buffer_m = _number(props, "buffer_m", where, 0.0, 0.0)
    floor_m, ceiling_m = _floor_ceiling_m(props, kind, where)
    datum = _datum(props, where)
    source = props.get("source", "")
    if not isinstance(source, str):
        raise ConfigError(f"{where}: properties.source: expected a string")
    windows = _active_windows(props.get("active"), where)
    geom, circle = _geometry(feature.get("geometry"), props, where)
    return Zone(
        id=str(zone_id),
        kind=kind,
        name=name,
        geometry_lonlat=geom,
        buffer_m=buffer_m or 0.0,
        floor_m=floor_m or 0.0,
        ceiling_m=ceiling_m,
        datum=datum,
        source=source,
        origin=where,
        circle=circle,
        windows=windows,
    )


def _kind(props: dict[str, Any], where: str) -> ZoneKind:
    kind_raw = props.get("kind")
    try:
        return ZoneKind(str(kind_raw))
    except ValueError as exc:
        allowed = ", ".join(k.value for k in ZoneKind)
        raise ConfigError(
            f"{where}: properties.kind: {kind_raw!r} is not one of {allowed}"
        ) from exc


def _check_known_fields(props: dict[str, Any], where: str) -> None:
    unknown = sorted(set(props) - _KNOWN)
    if unknown:
        raise ConfigError(
            f"{where}: properties.{unknown[0]}: unknown field (known: {', '.join(sorted(_KNOWN))})"
        )


def _floor_ceiling_m(
    props: dict[str, Any], kind: ZoneKind, where: str
) -> tuple[float | None, float | None]:
    """``floor_m`` (default 0) and ``ceiling_m``, required for a ceiling cell."""
    floor_m = _number(props, "floor_m", where, 0.0)
    ceiling_m = _number(props, "ceiling_m", where, None)
    if kind is ZoneKind.CEILING and ceiling_m is None:
        raise ConfigError(f"{where}: properties.ceiling_m: required for a ceiling cell (metres)")
    if ceiling_m is not None and floor_m is not None and ceiling_m < floor_m:
        raise ConfigError(
            f"{where}: properties.ceiling_m: {ceiling_m:g} is below floor_m {floor_m:g}"
        )
    return floor_m, ceiling_m


def _datum(props: dict[str, Any], where: str) -> AltitudeDatum:
    datum_raw = props.get("datum", "agl")
    try:
        return AltitudeDatum(datum_raw)
    except ValueError as exc:
        raise ConfigError(f"{where}: properties.datum: {datum_raw!r} is not agl or amsl") from exc


def _active_windows(active: Any, where: str) -> tuple[ActiveWindow, ...]:
    """``properties.active``: none (always active) or a non-empty list of windows."""
    if active is None:
        return ()
    if not isinstance(active, list) or not active:
        raise ConfigError(
            f"{where}: properties.active: expected a non-empty list of {{start, end}}"
        )
    windows = []
    for k, item in enumerate(active):
        w_where = f"{where}: properties.active[{k}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{w_where}: expected an object with start and end")
        start = _time(item.get("start"), f"{w_where}.start")
        end = _time(item.get("end"), f"{w_where}.end")
        if end <= start:
            raise ConfigError(f"{w_where}.end: must be after start")
        windows.append(ActiveWindow(start, end))
    return tuple(windows)


def _geometry(raw: Any, props: dict[str, Any], where: str) -> tuple[BaseGeometry, Circle | None]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: geometry: missing")
    gtype = raw.get("type")
    if gtype == "Point":
        radius = _number(props, "radius_m", where, None, 0.0)
        if radius is None or radius <= 0:
            raise ConfigError(
                f"{where}: properties.radius_m: a Point zone needs a radius > 0 (metres)"
            )
        try:
            lon, lat = (float(v) for v in raw["coordinates"][:2])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: geometry.coordinates: expected [lon, lat]") from exc
        _check_lonlat(lon, lat, where)
        # the lon/lat shape of a circle is only indicative; Airspace builds it in metres
        return Point(lon, lat), Circle(lat, lon, radius)
    if gtype not in ("Polygon", "MultiPolygon"):
        raise ConfigError(
            f"{where}: geometry.type: {gtype!r} "
            "(zones are Polygon, MultiPolygon or Point + radius_m)"
        )
    try:
        geom = shape(raw)
    except (KeyError, TypeError, ValueError, IndexError, shapely.errors.GEOSException) as exc:
        raise ConfigError(f"{where}: geometry.coordinates: not a valid {gtype}: {exc}") from exc
    if geom.is_empty:
        raise ConfigError(f"{where}: geometry: empty {gtype}")
    minx, miny, maxx, maxy = geom.bounds
    _check_lonlat(minx, miny, where)
    _check_lonlat(maxx, maxy, where)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise ConfigError(f"{where}: geometry: invalid polygon ({reason})")
    return geom, None


def _check_lonlat(lon: float, lat: float, where: str) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ConfigError(
            f"{where}: geometry.coordinates: ({lon}, {lat}) is not [lon, lat] in degrees"
        )
