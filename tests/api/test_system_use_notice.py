"""The system use notice (CJIS 5.5.4): anyone may read it before signing in, the agency sets
its words, and a sign-in that acknowledges it is recorded so in the audit trail."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from dfr.auth.tokens import Role
from dfr.config import DEFAULT_SYSTEM_USE_NOTICE, Settings
from tests.api.conftest import Served, one_drone_app, serving

PASSWORD = "a long pass phrase for the notice 3"


def _stranger(served: Served) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=served.asgi), base_url="http://dfr.test"
    )


def test_the_default_notice_says_authorized_use_monitoring_and_prosecution() -> None:
    text = Settings().system_use_notice
    assert text == DEFAULT_SYSTEM_USE_NOTICE
    for words in ("Authorized use only", "monitored and recorded", "criminal prosecution"):
        assert words in text
    with pytest.raises(ValidationError, match="system_use_notice"):
        Settings(system_use_notice="")


async def test_anyone_reads_the_notice_before_signing_in(served: Served) -> None:
    async with _stranger(served) as client:
        answer = await client.get("/api/v1/session/notice")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "text": DEFAULT_SYSTEM_USE_NOTICE,
        "sha256": hashlib.sha256(DEFAULT_SYSTEM_USE_NOTICE.encode()).hexdigest(),
    }
    assert answer.headers["cache-control"] == "no-store"


async def test_the_agency_sets_the_words_and_sign_ins_record_the_acknowledgement(
    tmp_path: Path,
) -> None:
    words = "Property of the Example City Police.\n\nAuthorized users only; all use is logged."
    async with serving(one_drone_app(tmp_path, system_use_notice=words)) as served:
        await served.service.accounts.add("vic", Role.VIEWER, datetime.now(UTC), PASSWORD)
        async with _stranger(served) as client:
            notice = (await client.get("/api/v1/session/notice")).json()
            assert notice["text"] == words
            taken = await client.post(
                "/api/v1/session",
                json={"username": "vic", "password": PASSWORD, "notice_acknowledged": True},
            )
            assert taken.status_code == 200, taken.text
            plain = await client.post(
                "/api/v1/session", json={"username": "vic", "password": PASSWORD}
            )
            assert plain.status_code == 200, plain.text
            coerced = await client.post(
                "/api/v1/session",
                json={"username": "vic", "password": PASSWORD, "notice_acknowledged": "yes"},
            )
            assert coerced.status_code == 422, coerced.text
            assert [p["field"] for p in coerced.json()["problems"]] == ["notice_acknowledged"]
        assert served.service.audit is not None
        sign_ins = [r for r in served.service.audit.records() if r.action == "sign_in"]
    assert [(r.outcome, r.detail["notice_acknowledged"]) for r in sign_ins] == [
        ("ok", True),
        ("ok", False),
    ]
    assert sign_ins[0].detail["notice_sha256"] == notice["sha256"]
    assert "notice_sha256" not in sign_ins[1].detail
