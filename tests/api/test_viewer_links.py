"""Officer viewer links over HTTP and websockets (real uvicorn, real SQLite store): a pilot
shares one drone; opening the link sets its HttpOnly cookie and audits the opening; the
link sees its drone's telemetry and video sockets and nothing else; revoked or expired,
it is refused with "expired" and its open socket closes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from dfr.auth.tokens import Role
from tests.api.conftest import PASSWORD, PILOT, VIEWER, Running, running_service

pytestmark = pytest.mark.timeout(120)

PILOT_AUTH = {"Authorization": f"Bearer {PILOT}"}


async def _share(client: httpx.AsyncClient, **body: object) -> dict[str, object]:
    made = await client.post("/api/v1/viewer-links", json=body, headers=PILOT_AUTH)
    assert made.status_code == 201, made.text
    created: dict[str, object] = made.json()
    return created


def _text_of(created: dict[str, object]) -> str:
    url = str(created["url"])
    assert url.startswith("/view.html#link=dfrv_")
    return url.partition("#link=")[2]


async def _open(officer: httpx.AsyncClient, text: str) -> None:
    """The officer's browser opens the link: the client then holds its cookie."""
    opened = await officer.post(
        "/api/v1/viewer-links/open",
        headers={"Authorization": f"Bearer {text}", "User-Agent": "phone/1.0"},
    )
    assert opened.status_code == 200, opened.text


def _ws_url(running: Running, path: str) -> str:
    return running.base.replace("http://", "ws://") + path


async def test_a_shared_link_opens_on_a_phone_and_sees_its_drone_only(running: Running) -> None:
    async with running.client() as pilot:
        created = await _share(pilot, drone_id="d0", label="Unit 4B")
    link = created["link"]
    assert isinstance(link, dict)
    assert link["created_by"] == "automation" and link["label"] == "Unit 4B" and link["active"]
    lifetime = datetime.fromisoformat(link["expires_at"]) - datetime.fromisoformat(
        link["created_at"]
    )
    assert lifetime == timedelta(hours=2)  # the site's policy default
    text, link_id = _text_of(created), str(link["id"])

    async with running.client() as officer:
        await _open(officer, text)
        cookie = officer.cookies.get(f"dfr_view_{link_id}")
        assert cookie == text
        view = await officer.get(f"/api/v1/viewer-link?view={link_id}")
        assert view.status_code == 200, view.text
        body = view.json()
        assert body["drone_id"] == "d0" and body["call"] is None
        assert body["airspace"]["type"] == "FeatureCollection"

        # nothing else: no incident, no other drone, no list of drones, no events
        for path in ("/api/v1/drones", "/api/v1/incidents", "/api/v1/drones/d0", "/api/v1/me"):
            refused = await officer.get(f"{path}?view={link_id}")
            assert refused.status_code == 403, (path, refused.text)
            assert "viewer link sees drone d0" in refused.json()["detail"]
        as_bearer = await officer.get(
            "/api/v1/incidents", headers={"Authorization": f"Bearer {text}"}
        )
        assert as_bearer.status_code == 403

        headers = {"Cookie": f"dfr_view_{link_id}={text}", "Origin": running.base}
        async with websockets.connect(
            _ws_url(running, f"/ws/telemetry?view={link_id}&drone_id=d0"),
            additional_headers=headers,
        ) as ws:
            first = await asyncio.wait_for(ws.recv(), 5)
            assert '"drone_id":"d0"' in str(first).replace(" ", "")
        for wrong in (
            f"/ws/telemetry?view={link_id}",  # the whole fleet
            f"/ws/events?view={link_id}",
            f"/ws/video/other?view={link_id}",
        ):
            with pytest.raises(websockets.InvalidStatus):
                async with websockets.connect(_ws_url(running, wrong), additional_headers=headers):
                    pass
        # the cookie rides only with our own pages' Origin
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(
                _ws_url(running, f"/ws/telemetry?view={link_id}&drone_id=d0"),
                additional_headers={**headers, "Origin": "https://evil.example"},
            ):
                pass

    records = [r for r in running.service.audit.records() if r.target == f"link:{link_id}"]
    assert [r.action for r in records] == ["viewer_link_created", "viewer_link_opened"]
    opened = records[1]
    assert opened.outcome == "ok" and opened.source == "127.0.0.1"
    assert opened.detail["user_agent"] == "phone/1.0"


async def test_revoked_the_link_says_expired_and_its_socket_closes(running: Running) -> None:
    async with running.client() as pilot:
        created = await _share(pilot, drone_id="d0")
        link_id, text = str(created["link"]["id"]), _text_of(created)  # type: ignore[index]
        headers = {"Cookie": f"dfr_view_{link_id}={text}", "Origin": running.base}
        async with (
            running.client() as officer,
            websockets.connect(
                _ws_url(running, f"/ws/telemetry?view={link_id}&drone_id=d0"),
                additional_headers=headers,
            ) as ws,
        ):
            await _open(officer, text)
            await asyncio.wait_for(ws.recv(), 5)
            revoked = await pilot.delete(f"/api/v1/viewer-links/{link_id}", headers=PILOT_AUTH)
            assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "automation"
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert "expired" in closed.value.rcvd.reason

            after = await officer.get(f"/api/v1/viewer-link?view={link_id}")
            assert (
                after.status_code == 401
                and "expired: revoked by automation" in after.json()["detail"]
            )
            again = await officer.post(
                "/api/v1/viewer-links/open", headers={"Authorization": f"Bearer {text}"}
            )
            assert again.status_code == 401
        twice = await pilot.delete(f"/api/v1/viewer-links/{link_id}", headers=PILOT_AUTH)
        assert twice.status_code == 409 and "revoked already" in twice.json()["detail"]
        listed = await pilot.get("/api/v1/viewer-links", headers=PILOT_AUTH)
        assert [(link["id"], link["active"]) for link in listed.json()] == [(link_id, False)]
    actions = [r.action for r in running.service.audit.records() if r.target == f"link:{link_id}"]
    assert actions == [
        "viewer_link_created",
        "viewer_link_opened",
        "viewer_link_revoked",
        "viewer_link_opened",  # refused, and recorded as such
    ]


async def test_an_expired_link_is_refused_with_expired(running: Running) -> None:
    links = running.service.viewer_links
    text, link = await links.create(
        drone_id="d0",
        flight=None,
        created_by="pia",
        now=datetime.now(UTC) - timedelta(hours=3),
    )
    async with running.client() as officer:
        opened = await officer.post(
            "/api/v1/viewer-links/open", headers={"Authorization": f"Bearer {text}"}
        )
        assert opened.status_code == 401 and "this link has expired" in opened.json()["detail"]
        forged = await officer.post(
            "/api/v1/viewer-links/open", headers={"Authorization": f"Bearer {text[:-4]}abcd"}
        )
        assert forged.status_code == 401 and "unknown viewer link" in forged.json()["detail"]
        no_cookie = await officer.get(f"/api/v1/viewer-link?view={link.id}")
        assert no_cookie.status_code == 401 and "open the link again" in no_cookie.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"drone_id": "d0", "flight_id": "f1"}, 422, "exactly one of drone_id and flight_id"),
        ({}, 422, "exactly one of drone_id and flight_id"),
        ({"drone_id": "nope"}, 404, "drone nope does not exist"),
        ({"flight_id": "nope"}, 404, "flight nope does not exist"),
        ({"drone_id": "d0", "ttl_s": 50_000}, 422, "viewer_link_max_ttl_s"),
        ({"drone_id": "d0", "ttl_s": "60"}, 422, "ttl_s"),
    ],
)
async def test_a_link_asked_for_wrongly_is_refused_with_why(
    running: Running, body: dict[str, object], status: int, says: str
) -> None:
    async with running.client() as pilot:
        answer = await pilot.post("/api/v1/viewer-links", json=body, headers=PILOT_AUTH)
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert await running.service.viewer_links.listed() == []


async def test_only_a_pilot_shares_and_revokes(running: Running) -> None:
    async with running.client() as client:
        viewer = {"Authorization": f"Bearer {VIEWER}"}
        shared = await client.post("/api/v1/viewer-links", json={"drone_id": "d0"}, headers=viewer)
        assert shared.status_code == 403 and "pilot role" in shared.json()["detail"]
        listed = await client.get("/api/v1/viewer-links", headers=viewer)
        assert listed.status_code == 403


async def test_where_policy_says_so_a_link_opens_only_for_an_officer_signed_in(
    tmp_path: Path,
) -> None:
    """viewer_links_need_sign_in: the link alone is refused (SignInRequired, audited);
    signed in as well, the officer opens it and watches; signed out, the link's reads
    are refused and its socket closes."""
    policy = "policy: {viewer_links_need_sign_in: true}\n"
    async with running_service(tmp_path, policy) as running, running.client() as pilot:
        created = await _share(pilot, drone_id="d0", label="Unit 7")
        link_id, text = str(created["link"]["id"]), _text_of(created)  # type: ignore[index]
        await running.person("olive", Role.VIEWER)
        async with running.client() as officer:
            alone = await officer.post(
                "/api/v1/viewer-links/open", headers={"Authorization": f"Bearer {text}"}
            )
            assert alone.status_code == 401, alone.text
            assert alone.json()["error"] == "SignInRequired"
            assert "open only for people signed in" in alone.json()["detail"]

            signed = await officer.post(
                "/api/v1/session", json={"username": "olive", "password": PASSWORD}
            )
            assert signed.status_code == 200, signed.text
            opened = await officer.post(
                "/api/v1/viewer-links/open",
                headers={"Authorization": f"Bearer {text}", "Origin": running.base},
            )
            assert opened.status_code == 200, opened.text
            view = await officer.get(f"/api/v1/viewer-link?view={link_id}")
            assert view.status_code == 200 and view.json()["drone_id"] == "d0"

            cookies = "; ".join(f"{name}={value}" for name, value in officer.cookies.items())
            headers = {"Cookie": cookies, "Origin": running.base}
            async with websockets.connect(
                _ws_url(running, f"/ws/telemetry?view={link_id}&drone_id=d0"),
                additional_headers=headers,
            ) as ws:
                out = await officer.delete("/api/v1/session", headers={"Origin": running.base})
                assert out.status_code in (200, 204), out.text
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await asyncio.wait_for(ws.recv(), 5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

            after = await officer.get(f"/api/v1/viewer-link?view={link_id}")
            assert after.status_code == 401 and after.json()["error"] == "SignInRequired"
        opened = [
            (r.actor, r.outcome)
            for r in running.service.audit.records()
            if r.action == "viewer_link_opened"
        ]
        assert opened == [("anonymous", "refused"), ("olive", "ok")]
