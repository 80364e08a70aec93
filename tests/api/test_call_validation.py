"""No call is half-taken: a call with a number JSON cannot carry (inf, NaN), anywhere, is
refused with a 422 naming the field before anything is stored or dispatched."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.test_calls import CALL
from tests.dispatch.eido_samples import eido

RADIUS_FIELD = "locationComponent[1].locationByValue"


async def _post_raw(client: httpx.AsyncClient, path: str, text: str) -> httpx.Response:
    return await client.post(path, content=text, headers={"Content-Type": "application/json"})


async def _nothing_stored_and_still_answering(client: httpx.AsyncClient) -> None:
    listed = await client.get("/api/v1/incidents")
    assert listed.status_code == 200 and listed.json() == []
    fine = await client.post("/api/v1/calls/eido", json=eido())
    assert fine.status_code == 201, fine.text


@pytest.mark.parametrize("radius", ["inf", "Infinity", "-inf", "nan", "1e400", "-5"])
async def test_eido_circle_radius_must_be_a_finite_length(
    client: httpx.AsyncClient, radius: str
) -> None:
    doc = eido(circle_radius_m=0.0)
    loc = doc["locationComponent"][1]
    loc["locationByValue"] = loc["locationByValue"].replace(">0.0<", f">{radius}<")
    bad = await client.post("/api/v1/calls/eido", json=doc)
    assert bad.status_code == 422, bad.text
    assert bad.json()["field"] == RADIUS_FIELD
    assert "radius" in bad.json()["detail"]
    await _nothing_stored_and_still_answering(client)


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e400"])
async def test_eido_json_with_a_non_finite_number_anywhere(
    client: httpx.AsyncClient, number: str
) -> None:
    doc = eido()
    doc["notesComponent"][0]["extra"] = [1, "__N__"]
    text = json.dumps(doc).replace('"__N__"', number)
    bad = await _post_raw(client, "/api/v1/calls/eido", text)
    assert bad.status_code == 422, bad.text
    assert bad.json()["field"] == "notesComponent[0].extra[1]"
    await _nothing_stored_and_still_answering(client)


@pytest.mark.parametrize("number", ["Infinity", "NaN", "1e400"])
@pytest.mark.parametrize("where", ["lat", "lon"])
async def test_own_json_call_with_a_non_finite_position(
    client: httpx.AsyncClient, number: str, where: str
) -> None:
    call = {**CALL, "location": {**CALL["location"], where: "__N__"}}  # type: ignore[dict-item]
    bad = await _post_raw(client, "/api/v1/calls", json.dumps(call).replace('"__N__"', number))
    assert bad.status_code == 422, bad.text
    assert [p["field"] for p in bad.json()["problems"]] == [f"location.{where}"]
    await _nothing_stored_and_still_answering(client)


async def test_command_with_a_non_finite_number_is_refused(client: httpx.AsyncClient) -> None:
    text = '{"type": "altitude", "alt_rel_m": 1e400}'
    bad = await _post_raw(client, "/api/v1/flights/nope/commands", text)
    assert bad.status_code == 422, bad.text
    assert [p["field"] for p in bad.json()["problems"]] == ["alt_rel_m"]


# Strict input: each field as its own JSON type, never converted ("1" is not a priority).
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"priority": "1"}, "priority"),
        ({"priority": 1.0}, "priority"),
        ({"priority": True}, "priority"),
        ({"location": {"lat": "32.75", "lon": -97.33}}, "location.lat"),
        ({"location": {"lat": 32.75, "lon": "Infinity"}}, "location.lon"),
        ({"cancelled": 1}, "cancelled"),
        ({"cancelled": "false"}, "cancelled"),
        ({"cad_id": 17}, "cad_id"),
    ],
)
async def test_own_json_call_is_not_coerced(
    client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    bad = await client.post("/api/v1/calls", json={**CALL, **change})
    assert bad.status_code == 422, bad.text
    assert [p["field"] for p in bad.json()["problems"]] == [field]
    await _nothing_stored_and_still_answering(client)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
async def test_own_json_call_with_a_non_finite_latitude_and_a_string_priority(
    client: httpx.AsyncClient, number: str
) -> None:
    call = {**CALL, "priority": "1", "location": {"lat": "__N__", "lon": -97.33}}
    bad = await _post_raw(client, "/api/v1/calls", json.dumps(call).replace('"__N__"', number))
    assert bad.status_code == 422, bad.text
    assert sorted(p["field"] for p in bad.json()["problems"]) == ["location.lat", "priority"]
    await _nothing_stored_and_still_answering(client)


async def test_an_integer_is_a_number_and_a_time_is_a_string(client: httpx.AsyncClient) -> None:
    """What strict still takes: 32 for a latitude, an ISO 8601 string for a time."""
    call = {
        **CALL,
        "location": {"lat": 32, "lon": -97.33},
        "received_at": "2026-01-01T12:00:00Z",
    }
    taken = await client.post("/api/v1/calls", json=call)
    assert taken.status_code == 201, taken.text
    assert taken.json()["location"]["lat"] == 32.0
    assert taken.json()["received_at"] == "2026-01-01T12:00:00Z"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/flights/nope/commands", {"type": "altitude", "alt_rel_m": "60"}, "alt_rel_m"),
        ("/api/v1/flights/nope/commands", {"type": "orbit", "lat": "1", "lon": 2}, "lat"),
        ("/api/v1/incidents/nope/launch", {"divert": "true"}, "divert"),
        ("/api/v1/incidents/nope/launch", {"drone_id": 1}, "drone_id"),
    ],
)
async def test_pilot_bodies_are_not_coerced(
    client: httpx.AsyncClient, path: str, body: dict[str, object], field: str
) -> None:
    bad = await client.post(path, json=body)
    assert bad.status_code == 422, bad.text
    assert [p["field"] for p in bad.json()["problems"]] == [field]


@pytest.mark.parametrize("path", ["/api/v1/calls", "/api/v1/incidents/nope/launch"])
async def test_a_body_that_is_not_utf8_is_invalid_input_not_a_bare_400(
    client: httpx.AsyncClient, path: str
) -> None:
    bad = await client.post(path, content=b"\xff\x0f", headers={"Content-Type": "application/json"})
    assert bad.status_code == 422, bad.text
    assert bad.json()["error"] == "InvalidInput" and bad.json()["problems"][0]["field"] == "body"
    assert "not JSON" in bad.json()["detail"]
    unknown = await client.delete("/api/v1/calls")  # other HTTP errors keep their status
    assert unknown.status_code == 405
    await _nothing_stored_and_still_answering(client)
