"""The dispatch desk's refusals, each with its reason, through the real service and its
SQLite store; no vehicle is needed (a test sets what a drone's link reports), and no
drone flies."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dfr.bus import Topic
from dfr.dispatch.dispatcher import Outcome
from dfr.dispatch.intake import CallData
from dfr.errors import InvalidInput, InvalidStateError, NotFound
from dfr.records import IncidentStatus
from dfr.service import Service
from tests.dispatch.running import running_service, set_ready
from tests.dispatch.scene import incident
from tests.e2e.scenes import SCENE

ONE = [{"id": "d", "dock": "a"}]


def call(cad_id: str, priority: int) -> CallData:
    return CallData(
        cad_id=cad_id,
        source="json",
        nature="test call",
        priority=priority,
        lat_deg=SCENE[0],
        lon_deg=SCENE[1],
        received_at=incident().received_at,
        raw={},
    )


async def stored(service: Service, status: IncidentStatus) -> str:
    """An incident stored with ``status``; its id."""
    made = await service.store.insert_incident(replace(incident(), status=status))
    return made.id


async def test_a_named_drone_that_does_not_exist_is_not_found(tmp_path: Path) -> None:
    async with running_service(tmp_path, ONE) as service:
        incident_id = await stored(service, IncidentStatus.AWAITING_PILOT)
        with pytest.raises(NotFound, match=r"^drone nope does not exist \(drones: d\)$"):
            await service.desk.launch(incident_id, "pilot", "nope")
        assert await service.store.list_decisions(incident_id) == []


async def test_an_incident_that_does_not_exist_is_not_found(tmp_path: Path) -> None:
    async with running_service(tmp_path, ONE) as service:
        with pytest.raises(NotFound, match=r"^incident inc-nope does not exist$"):
            await service.desk.launch("inc-nope", "pilot")


async def test_a_pilot_launch_no_drone_can_fly_says_why_and_is_recorded(tmp_path: Path) -> None:
    async with running_service(tmp_path, ONE) as service:  # no vehicle: link connecting
        incident_id = await stored(service, IncidentStatus.AWAITING_PILOT)
        with pytest.raises(
            InvalidStateError, match=rf"^no drone can launch for {incident_id}: d: link connecting$"
        ):
            await service.desk.launch(incident_id, "pilot")
        decision = (await service.store.list_decisions(incident_id))[0]
        assert decision.outcome == Outcome.QUEUED.value
        assert decision.rejections == [{"drone_id": "d", "reason": "link connecting"}]


@pytest.mark.parametrize(
    "status", [IncidentStatus.DISPATCHED, IncidentStatus.CLOSED, IncidentStatus.CANCELLED]
)
async def test_an_incident_that_is_not_open_cannot_be_launched(
    tmp_path: Path, status: IncidentStatus
) -> None:
    async with running_service(tmp_path, ONE) as service:
        set_ready(service, "d")
        incident_id = await stored(service, status)
        with pytest.raises(
            InvalidStateError, match=rf"^incident {incident_id} is {status}: it cannot be launched$"
        ):
            await service.desk.launch(incident_id, "pilot")
        # nor decided again automatically (the queue, a repeated call): nothing is recorded
        current = await service.store.get_incident(incident_id)
        assert current is not None
        decision, flight = await service.desk.dispatch(current)
        assert (decision.outcome, decision.chosen, flight) == (Outcome.QUEUED, None, None)
        assert await service.store.list_decisions(incident_id) == []
        assert (await service.store.get_incident(incident_id)) == current
        assert service.sorties.busy_drones() == set()


async def test_a_call_above_the_auto_launch_priority_waits_for_a_pilot(tmp_path: Path) -> None:
    async with running_service(tmp_path, ONE, policy={"auto_launch_max_priority": 2}) as service:
        set_ready(service, "d")
        result = await service.take_call(call("CAD-3", priority=3))
        assert result.created and result.incident.status is IncidentStatus.AWAITING_PILOT
        (decision,) = await service.store.list_decisions(result.incident.id)
        assert (decision.outcome, decision.chosen_drone_id) == ("awaiting_pilot", "d")
        assert decision.rejections == []
        assert service.sorties.busy_drones() == set()  # proposed, not launched


async def test_a_call_no_drone_can_take_is_queued_and_the_events_say_why(tmp_path: Path) -> None:
    async with running_service(tmp_path, [*ONE, {"id": "e", "dock": "a"}]) as service:
        set_ready(service, "d", armable=False)  # "e" has no vehicle: its link is connecting
        events = service.bus.subscribe(Topic.EVENTS, latest_only=False)
        result = await service.take_call(call("CAD-1", priority=1))
        assert result.incident.status is IncidentStatus.QUEUED
        bodies: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            while len(bodies) < 2:
                bodies += [json.loads(m.text) for m in await events.get_batch()]
        assert [b["type"] for b in bodies] == ["incident", "dispatch"]
        assert bodies[1]["outcome"] == "queued" and bodies[1]["chosen_drone_id"] is None
        assert bodies[1]["rejections"] == [
            {"drone_id": "d", "reason": "vehicle not armable (pre-arm checks)"},
            {"drone_id": "e", "reason": "link connecting"},
        ]


async def test_a_diversion_names_the_drone_to_take(tmp_path: Path) -> None:
    async with running_service(tmp_path, ONE) as service:
        incident_id = await stored(service, IncidentStatus.QUEUED)
        with pytest.raises(InvalidInput, match="a diversion names the drone to take"):
            await service.desk.launch(incident_id, "pilot", divert=True)


async def test_a_drone_that_is_not_flying_cannot_be_diverted(tmp_path: Path) -> None:
    async with running_service(tmp_path, ONE) as service:
        set_ready(service, "d")
        incident_id = await stored(service, IncidentStatus.QUEUED)
        with pytest.raises(InvalidStateError, match=r"^d is not flying: launch it without divert$"):
            await service.desk.launch(incident_id, "pilot", "d", divert=True)


async def test_a_call_waits_while_its_only_dock_is_held_and_is_served_once_lifted(
    tmp_path: Path,
) -> None:
    async with running_service(tmp_path, ONE, policy={"auto_launch_max_priority": 2}) as service:
        set_ready(service, "d")
        at = incident().received_at
        await service.dock_holds.hold("a", "lightning within 10 km", "sam", at)
        result = await service.take_call(call("CAD-H", priority=3))
        assert result.incident.status is IncidentStatus.QUEUED
        (held,) = await service.store.list_decisions(result.incident.id)
        assert held.rejections == [
            {"drone_id": "d", "reason": "dock a on hold: lightning within 10 km (by sam)"}
        ]
        await service.dock_holds.lift("a", "sam")
        # the lift serves the queue at once (after its 1 s settle), not at the 5 s sweep
        async with asyncio.timeout(3):
            while (current := await service.store.get_incident(result.incident.id)) is not None:
                if current.status is IncidentStatus.AWAITING_PILOT:
                    break
                await asyncio.sleep(0.05)
        decisions = await service.store.list_decisions(result.incident.id)
        assert (decisions[-1].outcome, decisions[-1].chosen_drone_id) == ("awaiting_pilot", "d")
        assert service.sorties.busy_drones() == set()
