"""A supervisor puts a dock on hold with a reason and lifts it: stored (it outlives a
restart), audited (who, why), shown in ``GET /api/v1/docks``, published on the events
bus, and honoured by the dispatcher (the held dock's drones are rejected with the hold's
words); strict input, 404 for an unknown dock, 409 for holding twice or lifting a dock
not held, 403 below supervisor."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from pydantic import SecretStr

from dfr.api.app import create_app
from dfr.auth.tokens import Principal, Role
from dfr.bus import Topic
from dfr.config import Settings
from dfr.site import load_site
from tests.api.conftest import PILOT, VIEWER, Served, one_drone_app, serving

SUPERVISOR = "supervisor-token-for-tests-0123456789"
LIGHTNING = {"reason": "lightning within 10 km"}
CALL = {"cad_id": "H-1", "nature": "test", "priority": 1, "location": {"lat": 47.4, "lon": 8.55}}


def client_with(served: Served, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=served.asgi),
        base_url="http://dfr.test",
        headers={"Authorization": f"Bearer {token}"},
    )


def supervisor(served: Served) -> httpx.AsyncClient:
    served.service.tokens.add(SUPERVISOR, Principal("sam", Role.SUPERVISOR))
    return client_with(served, SUPERVISOR)


async def test_a_supervisor_holds_a_dock_and_lifts_it(served: Served) -> None:
    events = served.service.bus.subscribe(Topic.EVENTS, latest_only=False)
    async with supervisor(served) as sam:
        held = await sam.post("/api/v1/docks/a/hold", json=LIGHTNING)
        assert held.status_code == 201, held.text
        body = held.json()
        assert body["state"] == "on_hold" and body["weather_hold"] is False
        assert body["hold"]["reason"] == "lightning within 10 km"
        assert body["hold"]["by"] == "sam" and body["hold"]["at"].endswith("Z")
        (dock,) = (await served.client.get("/api/v1/docks")).json()
        assert dock["hold"] == body["hold"] and dock["state"] == "on_hold"

        lifted = await sam.delete("/api/v1/docks/a/hold")
        assert lifted.status_code == 200, lifted.text
        assert lifted.json()["hold"] is None and lifted.json()["state"] != "on_hold"
    bodies = [json.loads(m.text) for m in await events.get_batch() if m.key == "dock_hold"]
    assert [(b["dock_id"], b["held"], b["reason"], b["by"]) for b in bodies] == [
        ("a", True, "lightning within 10 km", "sam"),
        ("a", False, None, "sam"),
    ]
    audit = served.service.audit
    assert audit is not None
    records = [r for r in audit.records() if r.target == "dock:a"]
    assert [(r.actor, r.action, r.detail["reason"]) for r in records] == [
        ("sam", "dock_held", "lightning within 10 km"),
        ("sam", "dock_hold_lifted", "lightning within 10 km"),
    ]


async def test_a_held_docks_drones_are_rejected_with_the_reason(served: Served) -> None:
    async with supervisor(served) as sam:
        assert (await sam.post("/api/v1/docks/a/hold", json=LIGHTNING)).status_code == 201
    taken = await served.client.post("/api/v1/calls", json=CALL)
    assert taken.status_code in (200, 201), taken.text
    incident = (await served.client.get(f"/api/v1/incidents/{taken.json()['id']}")).json()
    (rejection,) = incident["decision"]["rejections"]
    assert rejection["drone_id"] == "d0"
    assert rejection["reason"].startswith("dock a on hold: lightning within 10 km (by sam)")
    assert incident["status"] == "queued"


async def test_holding_twice_lifting_unheld_and_unknown_docks_are_refused(
    served: Served,
) -> None:
    async with supervisor(served) as sam:
        assert (await sam.delete("/api/v1/docks/a/hold")).status_code == 409
        assert (await sam.post("/api/v1/docks/a/hold", json=LIGHTNING)).status_code == 201
        again = await sam.post("/api/v1/docks/a/hold", json={"reason": "crowd"})
        assert again.status_code == 409
        assert "already on hold: lightning within 10 km (by sam)" in again.text
        missing = await sam.post("/api/v1/docks/nope/hold", json=LIGHTNING)
        assert missing.status_code == 404 and "docks: a" in missing.text
        assert (await sam.delete("/api/v1/docks/nope/hold")).status_code == 404


async def test_the_reason_is_strict_input(served: Served) -> None:
    async with supervisor(served) as sam:
        for bad in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 5}, {**LIGHTNING, "x": 1}):
            answer = await sam.post("/api/v1/docks/a/hold", json=bad)
            assert answer.status_code == 422, (bad, answer.text)
        long = await sam.post("/api/v1/docks/a/hold", json={"reason": "x" * 201})
        assert long.status_code == 422
    assert (await served.client.get("/api/v1/docks")).json()[0]["hold"] is None


async def test_a_viewer_may_not_hold_a_dock(served: Served) -> None:
    async with client_with(served, VIEWER) as viewer:
        answer = await viewer.post("/api/v1/docks/a/hold", json=LIGHTNING)
        assert answer.status_code == 403 and "supervisor" in answer.text


async def test_a_hold_outlives_a_restart(tmp_path: Path) -> None:
    async with serving(one_drone_app(tmp_path)) as served:
        sam = {"Authorization": f"Bearer {served.service.tokens.issue('sam', Role.SUPERVISOR)}"}
        held = await served.client.post("/api/v1/docks/a/hold", json=LIGHTNING, headers=sam)
        assert held.status_code == 201, held.text
    settings = Settings(
        site=tmp_path / "site", data_dir=tmp_path / "data", api_token=SecretStr(PILOT)
    )
    async with serving(create_app(settings, load_site(tmp_path / "site"))) as served:
        (dock,) = (await served.client.get("/api/v1/docks")).json()
        assert dock["hold"]["reason"] == "lightning within 10 km"
        assert dock["hold"]["by"] == "sam"
        sam = {"Authorization": f"Bearer {served.service.tokens.issue('sam', Role.SUPERVISOR)}"}
        lifted = await served.client.delete("/api/v1/docks/a/hold", headers=sam)
        assert lifted.status_code == 200, lifted.text
