"""Machine keys on the request path (the real app and store): an intake key posts calls
and reads nothing, a monitor key reads and posts nothing, a rig key flies; revoked and
expired keys are refused; websockets take keys as ?token= like tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from dfr.auth.api_keys import KeyPreset
from tests.api.conftest import Served

CALL = {"cad_id": "K-1", "nature": "test", "priority": 4, "location": {"lat": 47.4, "lon": 8.55}}


def _as(client: httpx.AsyncClient, key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_each_preset_does_what_it_is_for_and_nothing_else(served: Served) -> None:
    keys, client, now = served.service.api_keys, served.client, datetime.now(UTC)
    intake, _ = await keys.create("cad", KeyPreset.INTAKE, "test", now)
    monitor, _ = await keys.create("noc", KeyPreset.MONITOR, "test", now)
    rig, _ = await keys.create("rig", KeyPreset.RIG, "test", now)

    made = await client.post("/api/v1/calls", json=CALL, headers=_as(client, intake))
    assert made.status_code == 201, made.text
    for path in ("/api/v1/incidents", f"/api/v1/incidents/{made.json()['id']}", "/api/v1/drones"):
        read = await client.get(path, headers=_as(client, intake))
        assert read.status_code == 403 and "may not read" in read.json()["detail"], path

    assert (await client.get("/api/v1/incidents", headers=_as(client, monitor))).status_code == 200
    posted = await client.post("/api/v1/calls", json=CALL, headers=_as(client, monitor))
    assert posted.status_code == 403 and "intake key" in posted.json()["detail"]

    me = await client.get("/api/v1/me", headers=_as(client, rig))
    assert me.json() == {"name": "key:rig", "role": "supervisor"}


async def test_revoked_and_expired_keys_are_refused(served: Served) -> None:
    keys, client, now = served.service.api_keys, served.client, datetime.now(UTC)
    revoked, record = await keys.create("old", KeyPreset.MONITOR, "test", now)
    await keys.revoke(record.id, now)
    answer = await client.get("/api/v1/drones", headers=_as(client, revoked))
    assert answer.status_code == 401 and answer.json()["detail"].startswith("API key revoked")

    expired, _ = await keys.create(
        "brief", KeyPreset.MONITOR, "test", now - timedelta(days=2), lifetime=timedelta(days=1)
    )
    answer = await client.get("/api/v1/drones", headers=_as(client, expired))
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    wrong = await client.get("/api/v1/drones", headers=_as(client, revoked[:-3] + "xyz"))
    assert wrong.status_code == 401


async def test_an_intake_key_may_not_read_the_api_documentation(served: Served) -> None:
    keys, client, now = served.service.api_keys, served.client, datetime.now(UTC)
    intake, _ = await keys.create("cad", KeyPreset.INTAKE, "test", now)
    monitor, _ = await keys.create("noc", KeyPreset.MONITOR, "test", now)
    for path in ("/openapi.json", "/docs"):
        refused = await client.get(f"{path}?token={intake}", headers={"Authorization": ""})
        assert refused.status_code == 403 and "may not read" in refused.json()["detail"], path
        read = await client.get(f"{path}?token={monitor}", headers={"Authorization": ""})
        assert read.status_code == 200, path
