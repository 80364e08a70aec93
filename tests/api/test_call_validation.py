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
