"""Responding units from CAD: our JSON's ``units`` and EIDO's ``dispatchComponent``, and
a later report of a known call updating the incident's units."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dfr.dispatch.incidents import take_call
from dfr.dispatch.intake import CallData, parse_eido
from dfr.dispatch.units import UnitReport, merge_units
from dfr.errors import InvalidInput
from dfr.records import IncidentStatus, UnitStatus
from dfr.store import SqliteStore
from tests.dispatch.eido_samples import eido

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def with_units(doc: dict[str, Any], *components: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "dispatchComponent": list(components)}


def test_eido_dispatch_components_give_units_and_their_times() -> None:
    doc = with_units(
        eido(),
        {
            "$id": "urn:emergency:uid:dispatch:1",
            "dispatchUnitIdentifier": "4B12",
            "unitStatus": [
                {
                    "unitStatusCommonRegistryText": "Dispatched",
                    "unitStatusTimeStamp": "2026-11-26T12:00:30Z",
                },
                {
                    "unitStatusCommonRegistryText": "Enroute",
                    "unitStatusTimeStamp": "2026-11-26T12:01:00Z",
                },
                {
                    "unitStatusCommonRegistryText": "On Scene",
                    "unitStatusTimeStamp": "2026-11-26T06:05:00-06:00",
                },
            ],
        },
        {"$id": "7A", "dispatchTimeStamp": "2026-11-26T12:00:40Z"},
    )
    call = parse_eido(doc, now=T0)
    assert call.units == (
        UnitReport("4B12", at(30.0), at(300.0)),
        UnitReport("7A", at(40.0), None),
    )


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ({"unitStatus": []}, "dispatchComponent[0].dispatchUnitIdentifier"),
        ({"$id": "X", "dispatchTimeStamp": "yesterday"}, "dispatchComponent[0].dispatchTimeStamp"),
        ({"$id": "X", "unitStatus": ["onscene"]}, "dispatchComponent[0].unitStatus[0]"),
        (
            {
                "$id": "X",
                "dispatchTimeStamp": "2026-11-26T12:05:00Z",
                "arrivedOnSceneTimeStamp": "2026-11-26T12:00:00Z",
            },
            "units[X].arrived_at",
        ),
    ],
)
def test_bad_eido_units_name_the_field(component: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_eido(with_units(eido(), component), now=T0)
    assert caught.value.field == field


def test_a_later_report_fills_in_times_and_never_forgets_one() -> None:
    stored = [UnitStatus("inc-1", "4B", at(30.0), None, at(30.0))]
    assert merge_units("inc-1", stored, [UnitReport("4B", at(30.0))], at(60.0)) == []
    assert merge_units("inc-1", stored, [UnitReport("4B", None, at(300.0))], at(300.0)) == [
        UnitStatus("inc-1", "4B", at(30.0), at(300.0), at(300.0))
    ]
    assert merge_units("inc-1", stored, [UnitReport("9C")], at(90.0)) == [
        UnitStatus("inc-1", "9C", None, None, at(90.0))
    ]


def call(cad_id: str, *units: UnitReport, cancelled: bool = False) -> CallData:
    return CallData(
        cad_id, "json", "prowler", 3, 32.75, -97.33, T0, units=units, cancelled=cancelled
    )


async def test_arrival_times_sent_later_update_the_incident(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "dfr.db") as store:
        first = await take_call(store, call("C1", UnitReport("4B", at(30.0))), at(31.0))
        incident_id = first.incident.id
        assert await store.list_units([incident_id]) == [
            UnitStatus(incident_id, "4B", at(30.0), None, at(31.0))
        ]
        same = await take_call(store, call("C1", UnitReport("4B", at(30.0))), at(40.0))
        assert same.changed == ()
        # the incident is closed (its flight ended) before the officer arrives: still taken
        await store.update_incident(replace(first.incident, status=IncidentStatus.CLOSED))
        later = await take_call(
            store,
            call("C1", UnitReport("4B", None, at(400.0)), UnitReport("7A", at(350.0))),
            at(401.0),
        )
        assert later.changed == ("units",)
        assert await store.list_units([incident_id]) == [
            UnitStatus(incident_id, "4B", at(30.0), at(400.0), at(401.0)),
            UnitStatus(incident_id, "7A", at(350.0), None, at(401.0)),
        ]
