"""GeoJSON and QGroundControl .plan loaders: valid input and the error messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dfr.errors import ConfigError
from dfr.geo.geojson import load_geojson_zones
from dfr.geo.qgc_plan import load_plan_file
from dfr.geo.zone import AltitudeDatum, ZoneKind

SQUARE = [[[-97.33, 32.75], [-97.32, 32.75], [-97.32, 32.76], [-97.33, 32.76], [-97.33, 32.75]]]


def _feature(**props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": SQUARE},
        "properties": props,
    }


def _write(tmp_path: Path, features: list[Any], name: str = "airspace.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_reads_every_kind(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _feature(kind="no_fly", name="Pad", buffer_m=50, id="pad"),
            _feature(kind="ceiling", name="Cell", ceiling_m=30.5),
            _feature(kind="boundary", name="City", datum="amsl", floor_m=0),
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-97.3, 32.7]},
                "properties": {
                    "kind": "no_fly",
                    "name": "Stadium",
                    "radius_m": 5556,
                    "active": [
                        {"start": "2026-11-26T14:30:00-06:00", "end": "2026-11-26T20:30:00-06:00"}
                    ],
                },
            },
        ],
    )
    zones = load_geojson_zones(path)
    assert [z.kind for z in zones] == [
        ZoneKind.NO_FLY,
        ZoneKind.CEILING,
        ZoneKind.BOUNDARY,
        ZoneKind.NO_FLY,
    ]
    assert zones[0].id == "pad" and zones[0].buffer_m == 50
    assert zones[1].id == "z1" and zones[1].ceiling_m == 30.5
    assert zones[2].datum is AltitudeDatum.AMSL
    assert zones[3].circle is not None and zones[3].circle.radius_m == 5556
    assert len(zones[3].windows) == 1


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        (
            _feature(kind="nofly", name="A"),
            "features[0] ('A'): properties.kind: 'nofly' is not one of",
        ),
        (_feature(kind="no_fly"), "features[0]: properties.name: required"),
        (_feature(kind="ceiling", name="C"), "features[0] ('C'): properties.ceiling_m: required"),
        (
            _feature(kind="no_fly", name="B", buffer_m=-5),
            "properties.buffer_m: must be >= 0, got -5",
        ),
        (
            _feature(kind="no_fly", name="B", buffer_m="wide"),
            "properties.buffer_m: expected a number, got 'wide'",
        ),
        (_feature(kind="no_fly", name="B", colour="red"), "properties.colour: unknown field"),
        (
            _feature(kind="no_fly", name="B", datum="msl"),
            "properties.datum: 'msl' is not agl or amsl",
        ),
        (
            _feature(
                kind="no_fly",
                name="B",
                active=[{"start": "2026-01-01T10:00:00", "end": "2026-01-01T11:00:00"}],
            ),
            "properties.active[0].start: '2026-01-01T10:00:00' has no timezone",
        ),
        (
            _feature(kind="no_fly", name="B", floor_m=100, ceiling_m=50),
            "properties.ceiling_m: 50 is below floor_m 100",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                "properties": {"kind": "no_fly", "name": "L"},
            },
            "features[0] ('L'): geometry.type: 'LineString'",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-97.3, 32.7]},
                "properties": {"kind": "no_fly", "name": "P"},
            },
            "features[0] ('P'): properties.radius_m: a Point zone needs a radius",
        ),
        (
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                },
                "properties": {"kind": "no_fly", "name": "Bow"},
            },
            "features[0] ('Bow'): geometry: invalid polygon (Self-intersection",
        ),
        (
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[32.7, -97.3], [32.8, -97.3], [32.8, -97.2], [32.7, -97.3]]],
                },
                "properties": {"kind": "no_fly", "name": "Swapped"},
            },
            "is not [lon, lat] in degrees",
        ),
    ],
)
def test_geojson_errors_name_file_feature_and_field(
    tmp_path: Path, feature: Any, expected: str
) -> None:
    path = _write(tmp_path, [feature])
    with pytest.raises(ConfigError) as info:
        load_geojson_zones(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_geojson_duplicate_id(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [_feature(kind="no_fly", name="A", id="x"), _feature(kind="no_fly", name="B", id="x")],
    )
    with pytest.raises(
        ConfigError,
        match=r"features\[1\] \('B'\): properties.id: 'x' is already used by features\[0\]",
    ):
        load_geojson_zones(path)


def test_geojson_not_json_and_not_a_collection(tmp_path: Path) -> None:
    bad = tmp_path / "a.geojson"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"a.geojson: not valid JSON"):
        load_geojson_zones(bad)
    bad.write_text('{"type": "Feature"}')
    with pytest.raises(ConfigError, match=r"a.geojson: expected a GeoJSON FeatureCollection"):
        load_geojson_zones(bad)


def _plan(fence: dict[str, Any], rally: list[Any] | None = None) -> dict[str, Any]:
    return {
        "fileType": "Plan",
        "version": 1,
        "geoFence": {"version": 2, **fence},
        "rallyPoints": {"version": 2, "points": rally or []},
    }


def test_plan_fences_and_rally_points(tmp_path: Path) -> None:
    path = tmp_path / "fences.plan"
    path.write_text(
        json.dumps(
            _plan(
                {
                    "polygons": [
                        {
                            "inclusion": True,
                            "polygon": [[32.6, -97.5], [32.6, -97.2], [32.9, -97.2], [32.9, -97.5]],
                        },
                        {
                            "inclusion": False,
                            "polygon": [[32.75, -97.35], [32.75, -97.34], [32.76, -97.34]],
                        },
                    ],
                    "circles": [
                        {"inclusion": False, "circle": {"center": [32.7, -97.3], "radius": 250}}
                    ],
                },
                rally=[[32.7, -97.3, 40]],
            )
        )
    )
    plan = load_plan_file(path)
    kinds = [(z.kind, z.circle is not None) for z in plan.zones]
    assert kinds == [(ZoneKind.BOUNDARY, False), (ZoneKind.NO_FLY, False), (ZoneKind.NO_FLY, True)]
    # QGC is [lat, lon]; the zone geometry is (lon, lat)
    assert plan.zones[1].geometry_lonlat.bounds[0] == pytest.approx(-97.35)
    assert plan.zones[2].circle is not None and plan.zones[2].circle.radius_m == 250
    assert plan.rally_points[0].alt_rel_m == 40


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"fileType": "Mission"}, 'fileType: expected "Plan"'),
        (
            _plan({"polygons": [{"inclusion": True, "polygon": [[32.6, -97.5], [32.6, -97.2]]}]}),
            "geoFence.polygons[0].polygon: expected at least 3",
        ),
        (
            _plan({"polygons": [{"inclusion": "yes", "polygon": [[1, 1], [1, 2], [2, 2]]}]}),
            "geoFence.polygons[0].inclusion: expected true or false",
        ),
        (
            _plan({"polygons": [{"inclusion": True, "polygon": [[1, 1], [1, 200], [2, 2]]}]}),
            "geoFence.polygons[0].polygon[1]: (1.0, 200.0) is not [lat, lon]",
        ),
        (
            _plan(
                {
                    "circles": [
                        {"inclusion": False, "circle": {"center": [32.7, -97.3], "radius": 0}}
                    ]
                }
            ),
            "geoFence.circles[0].circle.radius: expected metres > 0",
        ),
        (_plan({}, rally=[["a", 1]]), "rallyPoints.points[0]: expected [lat, lon]"),
    ],
)
def test_plan_errors_name_file_and_path(tmp_path: Path, doc: Any, expected: str) -> None:
    path = tmp_path / "bad.plan"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError) as info:
        load_plan_file(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)
