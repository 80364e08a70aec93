from __future__ import annotations

import httpx

from tests.api.conftest import VIEWER
from tests.dispatch.eido_samples import eido

CALL = {
    "cad_id": "FW-1",
    "nature": "burglary in progress",
    "priority": 2,
    "location": {"lat": 32.75, "lon": -97.33},
    "address": "100 Main St",
}


async def test_post_call_creates_then_is_idempotent(client: httpx.AsyncClient) -> None:
    first = await client.post("/api/v1/calls", json=CALL)
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/calls", json=CALL)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["changed"] == []
    listed = await client.get("/api/v1/incidents")
    assert [i["cad_id"] for i in listed.json()] == ["FW-1"]


async def test_update_and_cancel_a_call(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/calls", json=CALL)).json()
    moved = await client.post(
        "/api/v1/calls", json={**CALL, "location": {"lat": 32.76, "lon": -97.34}, "priority": 1}
    )
    assert moved.status_code == 200
    assert sorted(moved.json()["changed"]) == ["location", "priority"]
    assert moved.json()["location"]["lat"] == 32.76
    cancelled = await client.post("/api/v1/calls", json={**CALL, "cancelled": True})
    assert cancelled.json()["status"] == "cancelled"
    got = await client.get(f"/api/v1/incidents/{created['id']}")
    assert got.json()["status"] == "cancelled"


async def test_bad_call_gets_a_precise_422(client: httpx.AsyncClient) -> None:
    bad = await client.post(
        "/api/v1/calls", json={**CALL, "priority": 9, "location": {"lat": 95, "lon": 0}}
    )
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["problems"]}
    assert fields == {"priority", "location.lat"}
    assert (await client.get("/api/v1/incidents")).json() == []  # nothing stored


async def test_eido_call(client: httpx.AsyncClient) -> None:
    made = await client.post("/api/v1/calls/eido", json=eido())
    assert made.status_code == 201, made.text
    assert made.json()["priority"] == 1 and made.json()["source"] == "eido"
    broken = eido()
    broken["incidentComponent"]["incidentCommonPriorityNumber"] = 42
    bad = await client.post("/api/v1/calls/eido", json=broken)
    assert bad.status_code == 422
    assert bad.json()["field"] == "incidentComponent.incidentCommonPriorityNumber"


async def test_tokens_and_roles(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/v1/incidents", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    wrong = await client.get(
        "/api/v1/incidents", headers={"Authorization": "Bearer nope-nope-nope-nope"}
    )
    assert wrong.status_code == 401
    viewer = {"Authorization": f"Bearer {VIEWER}"}
    assert (await client.get("/api/v1/incidents", headers=viewer)).status_code == 200
    refused = await client.post("/api/v1/calls", json=CALL, headers=viewer)
    assert refused.status_code == 403
    assert "pilot" in refused.json()["detail"]


async def test_drones_and_docks(client: httpx.AsyncClient) -> None:
    drones = (await client.get("/api/v1/drones")).json()
    assert [d["id"] for d in drones] == ["d0"]
    assert drones[0]["link"] == "connecting"
    assert (await client.get("/api/v1/drones/nope")).status_code == 404
    docks = (await client.get("/api/v1/docks")).json()
    assert docks[0]["drones"] == ["d0"]


async def test_api_docs_need_a_token_too(client: httpx.AsyncClient) -> None:
    assert (await client.get("/openapi.json", headers={"Authorization": ""})).status_code == 401
    assert (await client.get("/docs", headers={"Authorization": ""})).status_code == 401
    schema = (await client.get("/openapi.json")).json()
    assert "/api/v1/calls" in schema["paths"]
    page = await client.get(f"/docs?token={VIEWER}", headers={"Authorization": ""})
    assert page.status_code == 200 and "/openapi.json?token=" in page.text
