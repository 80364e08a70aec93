"""A drone's body is its schema's, whatever the vehicle has said about itself."""

from __future__ import annotations

import math

from dfr.api.schemas import DroneOut
from dfr.planning.vehicle_limits import VehicleLimits
from tests.api.conftest import Served


async def test_a_vehicle_limit_the_vehicle_does_not_have_is_null(served: Served) -> None:
    # a real vehicle has no SIH airframe parameters: its top speed is unlimited (inf),
    # which JSON cannot carry; the drone is still answered, that limit as null
    limits = VehicleLimits()
    assert math.isinf(limits.airframe_top_speed_mps)
    served.service.links["d0"].limits = limits
    answer = await served.client.get("/api/v1/drones/d0")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["vehicle_limits"]["airframe_top_speed_mps"] is None
    assert body["vehicle_limits"]["xy_vel_max_mps"] == limits.xy_vel_max_mps
    listed = await served.client.get("/api/v1/drones")
    assert (
        listed.status_code == 200 and listed.json()[0]["vehicle_limits"] == body["vehicle_limits"]
    )


async def test_drone_body_has_exactly_the_schemas_fields(served: Served) -> None:
    body = (await served.client.get("/api/v1/drones/d0")).json()
    assert set(body) == set(DroneOut.model_fields)
    assert body["vehicle_limits"] is None  # not read yet: nothing connected
    telemetry = served.service.position_message(served.service.links["d0"].state)
    assert {k: body[k] for k in telemetry if k != "type"} == {
        k: v for k, v in telemetry.items() if k != "type"
    } | {"t": body["t"]}
