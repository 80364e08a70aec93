"""Bodies of the outcome metrics (``GET /api/v1/metrics``); the definitions of every
figure are in :mod:`dfr.metrics.outcomes`."""

from __future__ import annotations

from pydantic import Field

from dfr.api.schemas.common import BodyOut
from dfr.metrics.outcomes import STEPS, Outcomes, Share
from dfr.timestamps import iso_utc


class IncidentMetricsOut(BodyOut):
    incident_id: str
    cad_id: str
    priority: int
    nature: str
    status: str
    received_at: str = Field(description="ISO 8601 with offset (+00:00)")
    flight_id: str | None = Field(description="the flight that served the call")
    drone_id: str | None
    decision_s: float | None = Field(description="call → first dispatch decision")
    launch_s: float | None = Field(description="call → launching")
    airborne_s: float | None = Field(description="call → enroute")
    on_scene_s: float | None = Field(description="call → the drone on scene")
    back_s: float | None = Field(description="call → back on its dock")
    first_officer_s: float | None = Field(description="call → the first unit's arrival")
    units_reported: int = Field(description="units the CAD reported for the call")
    drone_lead_s: float | None = Field(
        description="first officer's arrival − drone on scene (positive: the drone first)"
    )
    drone_first: bool | None = Field(
        description="on scene before the first officer (null: no launch or no arrival)"
    )
    cleared_without_officer: bool = Field(
        description="over (closed or cancelled) with no unit arrival reported"
    )


class StepOut(BodyOut):
    count: int = Field(description="incidents that reached the step")
    average_s: float | None
    p90_s: float | None = Field(description="90th percentile, nearest rank")


class ShareOut(BodyOut):
    count: int
    of: int = Field(description="the calls it is a share of")
    pct: float | None = Field(description="null when there are none")

    @classmethod
    def of_share(cls, share: Share) -> ShareOut:
        return cls(count=share.count, of=share.of, pct=share.pct)


class FlightMetricsOut(BodyOut):
    flight_id: str
    drone_id: str
    incident_id: str | None
    launched_at: str
    ended_at: str | None
    outcome: str
    flight_s: float | None = Field(description="launching → end; null while it flies")
    battery_start_pct: float | None
    battery_end_pct: float | None
    battery_used_pct: float | None
    battery_used_wh: float | None = Field(description="by the drone's battery_wh")


class DroneMetricsOut(BodyOut):
    drone_id: str
    flights: int = Field(description="flights that took off in the window")
    in_progress: int
    flight_s: float
    flight_h: float
    battery_used_pct: float = Field(description="summed over its flights")
    battery_used_wh: float | None
    battery_per_flight_pct: float | None


class WindowOut(BodyOut):
    from_: str | None = Field(alias="from", description="ISO 8601 UTC; null: the beginning")
    to: str | None = Field(description="ISO 8601 UTC, not included; null: no end")


class MetricsOut(BodyOut):
    """Outcome metrics over a window: per incident, the steps' averages and p90s, the
    drone first on scene, calls cleared without an officer, flights and battery per
    drone."""

    window: WindowOut
    count: int = Field(description="incidents received in the window")
    incidents: list[IncidentMetricsOut]
    averages: dict[str, float | None]
    p90: dict[str, float | None]
    steps: dict[str, StepOut]
    drone_first: ShareOut = Field(
        description="calls with a launch and an officer's arrival where the drone was first"
    )
    cleared_without_officer: ShareOut = Field(description="of the calls that are over")
    calls_with_unit_reports: int
    flights: list[FlightMetricsOut]
    drones: list[DroneMetricsOut]

    @classmethod
    def of(cls, result: Outcomes) -> MetricsOut:
        window = result.window
        return cls(
            window=WindowOut.model_validate(
                {
                    "from": iso_utc(window.start) if window.start else None,
                    "to": iso_utc(window.end) if window.end else None,
                }
            ),
            count=len(result.incidents),
            incidents=[
                IncidentMetricsOut(
                    incident_id=o.incident.id,
                    cad_id=o.incident.cad_id,
                    priority=o.incident.priority,
                    nature=o.incident.nature,
                    status=o.incident.status.value,
                    received_at=o.incident.received_at.isoformat(),
                    flight_id=o.flight.id if o.flight else None,
                    drone_id=o.flight.drone_id if o.flight else None,
                    **{step: o.steps_s[step] for step in STEPS},
                    units_reported=o.units_reported,
                    drone_lead_s=o.drone_lead_s,
                    drone_first=o.drone_first,
                    cleared_without_officer=o.cleared_without_officer,
                )
                for o in result.incidents
            ],
            averages={step: f.average_s for step, f in result.steps.items()},
            p90={step: f.p90_s for step, f in result.steps.items()},
            steps={
                step: StepOut(count=f.count, average_s=f.average_s, p90_s=f.p90_s)
                for step, f in result.steps.items()
            },
            drone_first=ShareOut.of_share(result.drone_first),
            cleared_without_officer=ShareOut.of_share(result.cleared_without_officer),
            calls_with_unit_reports=result.calls_with_unit_reports,
            flights=[
                FlightMetricsOut(
                    flight_id=f.flight.id,
                    drone_id=f.flight.drone_id,
                    incident_id=f.flight.incident_id,
                    launched_at=iso_utc(f.launched_at),
                    ended_at=iso_utc(f.flight.ended_at) if f.flight.ended_at else None,
                    outcome=f.flight.outcome,
                    flight_s=f.flight_s,
                    battery_start_pct=f.battery_start_pct,
                    battery_end_pct=f.battery_end_pct,
                    battery_used_pct=f.battery_used_pct,
                    battery_used_wh=f.battery_used_wh,
                )
                for f in result.flights
            ],
            drones=[
                DroneMetricsOut(
                    drone_id=d.drone_id,
                    flights=d.flights,
                    in_progress=d.in_progress,
                    flight_s=d.flight_s,
                    flight_h=round(d.flight_s / 3600.0, 4),
                    battery_used_pct=d.battery_used_pct,
                    battery_used_wh=d.battery_used_wh,
                    battery_per_flight_pct=d.battery_per_flight_pct,
                )
                for d in result.drones
            ],
        )
