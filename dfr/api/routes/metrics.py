"""Outcome metrics over a window: as JSON, and as CSV (one row per incident)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from dfr.api.access import Authed, service_of
from dfr.api.schemas import MetricsOut
from dfr.errors import InvalidInput
from dfr.metrics.csv_export import incidents_csv
from dfr.metrics.gather import outcome_records
from dfr.metrics.outcomes import Outcomes, Window, outcomes
from dfr.timestamps import iso_utc

router = APIRouter(prefix="/api/v1", tags=["metrics"])

From = Annotated[
    AwareDatetime | None,
    Query(
        alias="from",
        description="ISO 8601 with a time zone (e.g. 2026-11-26T00:00:00Z): the window's "
        "start, included; absent: from the first call",
    ),
]
To = Annotated[
    AwareDatetime | None,
    Query(description="ISO 8601 with a time zone: the window's end, not included; absent: now on"),
]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "one row per incident of the window, a header row first",
    }
}


def window_of(start: AwareDatetime | None, end: AwareDatetime | None) -> Window:
    if start is not None and end is not None and not start < end:
        raise InvalidInput(
            "query.to",
            f"the window must end after it starts: from={start.isoformat()} to={end.isoformat()}",
        )
    return Window(start, end)


async def _outcomes(request: Request, window: Window) -> Outcomes:
    service = service_of(request)
    battery_wh = {d.id: d.performance.battery_wh for d in service.site.drones}
    return outcomes(await outcome_records(service.store, window, battery_wh))


def _csv(result: Outcomes) -> Response:
    window = result.window
    name = "dfr-metrics-{}-{}.csv".format(
        iso_utc(window.start).replace(":", "") if window.start else "start",
        iso_utc(window.end).replace(":", "") if window.end else "now",
    )
    return Response(
        incidents_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/metrics",
    response_model=MetricsOut,
    responses=CSV_RESPONSE,
)
async def metrics(
    request: Request,
    who: Authed,
    start: From = None,
    to: To = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="csv: the same as /metrics.csv")
    ] = "json",
) -> MetricsOut | Response:
    """Outcome metrics over the calls received in the window: per incident, call →
    decision → launch → airborne → on scene → back and the first officer's arrival;
    each step's average and p90; the drone on scene before the first officer; calls
    cleared without an officer; flights, flight hours and battery used per drone.
    The same computation every time from the stored timestamps."""
    result = await _outcomes(request, window_of(start, to))
    if format == "csv":
        return _csv(result)
    return MetricsOut.of(result)


@router.get("/metrics.csv", response_class=Response, responses=CSV_RESPONSE)
async def metrics_csv(request: Request, who: Authed, start: From = None, to: To = None) -> Response:
    """The window's incidents as CSV, one row each (columns as ``/metrics``'
    ``incidents``; an unknown figure is an empty cell)."""
    return _csv(await _outcomes(request, window_of(start, to)))
