"""``GET /api/v1/metrics`` and ``/metrics.csv`` over HTTP: the window validated (422 naming
the parameter), units from CAD counted, CSV with a header and a row per incident, read
with a viewer's token. Figures from real flights: tests/e2e/test_console_metrics.py."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.api.conftest import VIEWER

SCENE = {"lat": 32.75, "lon": -97.33}  # far outside the test site: no drone can go


def call(cad_id: str, **more: object) -> dict[str, object]:
    return {"cad_id": cad_id, "nature": "prowler", "priority": 4, "location": SCENE, **more}


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("from=yesterday", "from", "datetime"),
        ("from=2026-11-26T12:00:00", "from", "timezone"),  # naive: which zone?
        ("to=2026-11-26T12:00:00Z&from=2026-11-26T12:00:00Z", "to", "must end after it starts"),
        ("from=2026-11-27T00:00:00Z&to=2026-11-26T00:00:00Z", "to", "must end after it starts"),
        ("format=xml", "format", "'json' or 'csv'"),
    ],
)
async def test_a_bad_window_is_a_422_naming_it(
    client: httpx.AsyncClient, query: str, field: str, says: str
) -> None:
    for path in ("/api/v1/metrics", "/api/v1/metrics.csv"):
        if "format" in query and path.endswith(".csv"):
            continue
        bad = await client.get(f"{path}?{query}")
        assert bad.status_code == 422, bad.text
        body = bad.json()
        fields = [p["field"] for p in body["problems"]] if "problems" in body else [body["field"]]
        assert fields == [f"query.{field}"]
        assert says in body["detail"].lower()


async def test_units_sent_later_count_and_the_csv_has_a_row_per_call(
    client: httpx.AsyncClient,
) -> None:
    made = await client.post(
        "/api/v1/calls",
        json=call("M-1", received_at="2026-11-26T06:00:00-06:00", units=[{"id": "4B"}]),
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "queued"
    later = await client.post(
        "/api/v1/calls",
        json=call(
            "M-1",
            received_at="2026-11-26T06:00:00-06:00",
            units=[{"id": "4B", "arrived_at": "2026-11-26T12:04:30Z"}],
        ),
    )
    assert later.json()["changed"] == ["units"]
    await client.post("/api/v1/calls", json=call("M-2", received_at="2026-11-26T13:00:00Z"))
    bad = await client.post(
        "/api/v1/calls",
        json=call(
            "M-3",
            units=[
                {
                    "id": "9",
                    "dispatched_at": "2026-11-26T12:05:00Z",
                    "arrived_at": "2026-11-26T12:00:00Z",
                }
            ],
        ),
    )
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "units.0"

    viewer = {"Authorization": f"Bearer {VIEWER}"}
    window = "from=2026-11-26T12:00:00Z&to=2026-11-26T12:30:00Z"
    got = await client.get(f"/api/v1/metrics?{window}", headers=viewer)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["window"] == {"from": "2026-11-26T12:00:00Z", "to": "2026-11-26T12:30:00Z"}
    (only,) = body["incidents"]
    assert (only["cad_id"], only["received_at"]) == ("M-1", "2026-11-26T12:00:00+00:00")
    assert (only["first_officer_s"], only["units_reported"], only["drone_first"]) == (
        270.0,
        1,
        None,
    )
    assert body["steps"]["first_officer_s"] == {"count": 1, "average_s": 270.0, "p90_s": 270.0}
    assert body["averages"]["on_scene_s"] is None and body["p90"]["first_officer_s"] == 270.0
    assert body["cleared_without_officer"] == {"count": 0, "of": 0, "pct": None}
    assert body["calls_with_unit_reports"] == 1 and body["flights"] == [] and body["drones"] == []

    every = (await client.get("/api/v1/metrics")).json()  # no window: every call
    assert [i["cad_id"] for i in every["incidents"]] == ["M-1", "M-2"]
    assert every["window"] == {"from": None, "to": None}

    for path in (f"/api/v1/metrics.csv?{window}", f"/api/v1/metrics?{window}&format=csv"):
        sheet = await client.get(path, headers=viewer)
        assert sheet.status_code == 200
        assert sheet.headers["content-type"] == "text/csv; charset=utf-8"
        assert sheet.headers["content-disposition"] == (
            'attachment; filename="dfr-metrics-2026-11-26T120000Z-2026-11-26T123000Z.csv"'
        )
        rows = list(csv.DictReader(io.StringIO(sheet.text)))
        assert [
            (r["cad_id"], r["first_officer_s"], r["on_scene_s"], r["status"]) for r in rows
        ] == [("M-1", "270.0", "", "queued")]
