from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dfr.dispatch.intake import eido_priority_to_local, parse_eido
from dfr.errors import InvalidInput
from tests.dispatch.eido_samples import eido

NOW = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


def test_eido_point_with_referenced_location_and_civic_address() -> None:
    call = parse_eido(eido(), now=NOW)
    assert call.cad_id == "FWPD-2026-000123"
    assert call.source == "eido"
    assert (call.lat_deg, call.lon_deg) == (32.7555, -97.3308)  # the referenced one, not [0]
    assert call.priority == 1
    assert call.nature == "Law-Shooting"
    assert call.address == "505 W Felix St Fort Worth TX"
    assert "shots" in call.notes
    assert call.received_at == datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
    assert not call.cancelled


def test_eido_circle_gives_uncertainty() -> None:
    call = parse_eido(eido(circle_radius_m=75), now=NOW)
    assert call.uncertainty_m == 75.0


def test_eido_cancelled_status() -> None:
    assert parse_eido(eido(status="Cancelled"), now=NOW).cancelled


@pytest.mark.parametrize(
    ("eido_priority", "local"),
    [(10, 1), (9, 1), (8, 2), (7, 2), (6, 3), (5, 3), (4, 4), (3, 4), (2, 5), (0, 5)],
)
def test_priority_mapping(eido_priority: int, local: int) -> None:
    assert eido_priority_to_local(eido_priority) == local


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("incidentComponent"), "incidentComponent"),
        (
            lambda d: d["incidentComponent"].update(incidentCommonPriorityNumber=11),
            "incidentCommonPriorityNumber",
        ),
        (
            lambda d: d["incidentComponent"].update(incidentCommonPriorityNumber="high"),
            "incidentCommonPriorityNumber",
        ),
        (
            lambda d: d["incidentComponent"].update(locationReference={"$ref": "nope"}),
            "locationReference",
        ),
        (
            lambda d: d["locationComponent"][1].update(locationByValue="<presence"),
            "locationComponent[1]",
        ),
        (lambda d: d["locationComponent"][1].update(locationByValue="<presence/>"), "gml:Point"),
        (
            lambda d: d["incidentComponent"].update(lastUpdateTimeStamp="yesterday"),
            "lastUpdateTimeStamp",
        ),
    ],
)
def test_bad_eido_names_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    doc = eido()
    mutate(doc)
    with pytest.raises(InvalidInput, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_eido(doc, now=NOW)


def test_eido_out_of_range_position() -> None:
    with pytest.raises(InvalidInput, match="latitude"):
        parse_eido(eido(lat=123.0), now=NOW)


@pytest.mark.parametrize(
    ("pos", "problem"),
    [
        ("32.75 -97.33 nan", "altitude"),
        ("32.75 -97.33 180 4", "LAT LON"),
        ("nan -97.33", "latitude"),
        ("32.75 inf", "longitude"),
    ],
)
def test_eido_position_numbers_are_all_finite(pos: str, problem: str) -> None:
    doc = eido()
    loc = doc["locationComponent"][1]
    loc["locationByValue"] = loc["locationByValue"].replace("32.7555 -97.3308", pos)
    with pytest.raises(InvalidInput, match=problem):
        parse_eido(doc, now=NOW)


def test_eido_three_dimensional_position_is_taken() -> None:
    doc = eido()
    loc = doc["locationComponent"][1]
    loc["locationByValue"] = loc["locationByValue"].replace("32.7555 -97.3308", "32.75 -97.33 190")
    call = parse_eido(doc, now=NOW)
    assert (call.lat_deg, call.lon_deg) == (32.75, -97.33)
