"""Pilot commands as one union discriminated on ``type``: each kind's body parses into its
own value (recorded under the body's names), and a body that is not a command is refused
with a 422 naming the field, before anything looks for the flight."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from dfr.api.models import CommandIn
from dfr.fleet.command_kinds import (
    PILOT_COMMAND_TYPES,
    Altitude,
    Divert,
    Goto,
    Hold,
    Land,
    Launch,
    Orbit,
    Return,
)
from tests.api.conftest import client, served  # noqa: F401  (fixtures)

KINDS: list[tuple[dict[str, Any], object, dict[str, Any]]] = [
    (
        {"type": "orbit", "lat": 47.4, "lon": 8.55, "radius_m": 80, "speed_mps": 4.5},
        Orbit(47.4, 8.55, radius_m=80.0, speed_mps=4.5),
        {"lat": 47.4, "lon": 8.55, "radius_m": 80.0, "speed_mps": 4.5},
    ),
    (
        {"type": "orbit", "lat": 47.4, "lon": 8.55, "alt_rel_m": 60},
        Orbit(47.4, 8.55, alt_rel_m=60.0),
        {"lat": 47.4, "lon": 8.55, "alt_rel_m": 60.0},
    ),
    (
        {"type": "goto", "lat": 47.41, "lon": 8.56},
        Goto(47.41, 8.56),
        {"lat": 47.41, "lon": 8.56},
    ),
    ({"type": "altitude", "alt_rel_m": 70}, Altitude(70.0), {"alt_rel_m": 70.0}),
    ({"type": "hold"}, Hold(), {}),
    ({"type": "return"}, Return(), {}),
    ({"type": "return", "reason": "shift over"}, Return("shift over"), {"reason": "shift over"}),
    ({"type": "land"}, Land(), {}),
]


@pytest.mark.parametrize(("body", "command", "params"), KINDS)
def test_each_kind_parses_into_its_value(
    body: dict[str, Any], command: object, params: dict[str, Any]
) -> None:
    parsed = CommandIn.model_validate(body).command()
    assert parsed == command
    assert type(parsed) is type(command)
    assert parsed.type == body["type"]
    assert parsed.params() == params  # what the command record keeps


def test_every_kind_is_a_body_kind() -> None:
    parsed = {CommandIn.model_validate(body).command().type for body, _c, _p in KINDS}
    assert parsed == set(PILOT_COMMAND_TYPES)


def test_dfrs_own_commands_are_recorded_under_the_same_names() -> None:
    """The arrival orbit and the automatic returns are pilot kinds; launch and divert
    are dfr's own (their records keep the names the API shows)."""
    arrival = Orbit(47.4, 8.55, radius_m=60.0, speed_mps=5.0)
    assert arrival.params() == {"lat": 47.4, "lon": 8.55, "radius_m": 60.0, "speed_mps": 5.0}
    assert Return("battery reserve").params() == {"reason": "battery reserve"}
    assert (Launch.type, Launch(12).params()) == ("launch", {"mission_items": 12})
    assert Divert("inc-1", 47.4, 8.55).params() == {
        "incident_id": "inc-1",
        "lat": 47.4,
        "lon": 8.55,
    }


def _problems(body: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as refused:
        CommandIn.model_validate(body)
    return [(".".join(map(str, e["loc"])), e["type"]) for e in refused.value.errors()]


def test_an_unknown_type_names_the_type_and_the_kinds() -> None:
    with pytest.raises(ValidationError) as refused:
        CommandIn.model_validate({"type": "barrel_roll"})
    (error,) = refused.value.errors()
    assert error["loc"] == ("type",)
    assert error["msg"] == (
        "Input should be 'orbit', 'goto', 'altitude', 'hold', 'return' or 'land'"
    )


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({}, [("type", "missing")]),
        ({"type": "goto", "lat": 47.4}, [("lon", "missing")]),
        ({"type": "orbit"}, [("lat", "missing"), ("lon", "missing")]),
        ({"type": "altitude"}, [("alt_rel_m", "missing")]),
        ({"type": "hold", "lat": 47.4}, [("lat", "extra_forbidden")]),  # not a hold's field
        ({"type": "goto", "lat": "north", "lon": 8.5}, [("lat", "float_type")]),
        ({"type": "altitude", "alt_rel_m": "60"}, [("alt_rel_m", "float_type")]),  # no coercion
        ({"type": "altitude", "alt_rel_m": float("inf")}, [("alt_rel_m", "finite_number")]),
        ([{"type": "hold"}], [("", "model_attributes_type")]),
    ],
)
def test_a_bad_body_names_its_field(body: Any, problems: list[tuple[str, str]]) -> None:
    assert _problems(body) == problems


async def test_the_api_refuses_a_bad_body_before_looking_for_the_flight(
    client: httpx.AsyncClient,  # noqa: F811
) -> None:
    unknown = await client.post("/api/v1/flights/nope/commands", json={"type": "barrel_roll"})
    assert unknown.status_code == 422
    assert unknown.json()["problems"] == [
        {
            "field": "type",
            "problem": "Input should be 'orbit', 'goto', 'altitude', 'hold', 'return' or 'land'",
        }
    ]
    missing = await client.post("/api/v1/flights/nope/commands", json={"type": "goto", "lat": 1})
    assert missing.status_code == 422
    assert missing.json()["problems"] == [{"field": "lon", "problem": "Field required"}]
    assert missing.json()["detail"] == "lon: Field required"
    fine = await client.post("/api/v1/flights/nope/commands", json={"type": "hold"})
    assert fine.status_code == 404, fine.text  # parsed; the flight does not exist
    assert fine.json()["detail"] == "flight nope does not exist"


async def test_the_openapi_document_shows_each_kind(client: httpx.AsyncClient) -> None:  # noqa: F811
    schema = (await client.get("/openapi.json")).json()
    body = schema["paths"]["/api/v1/flights/{flight_id}/commands"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    union = schema["components"]["schemas"][ref]
    assert union["discriminator"]["propertyName"] == "type"
    mapping = union["discriminator"]["mapping"]
    assert set(mapping) == set(PILOT_COMMAND_TYPES)
    goto = schema["components"]["schemas"][mapping["goto"].rsplit("/", 1)[-1]]
    assert set(goto["required"]) == {"type", "lat", "lon"}
    assert set(goto["properties"]) == {"type", "lat", "lon", "alt_rel_m"}
