"""One free drone, two calls at once: only one of them gets it. The drone is a simulated
vehicle (the real service, store and MAVSDK link), so the flight it starts is real and
lasts; then the refusals that need a drone in the air."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dfr.dispatch.dispatcher import Outcome
from dfr.errors import InvalidStateError
from dfr.records import Flight, IncidentStatus
from dfr.service import Service
from tests.dispatch.running import running_service
from tests.dispatch.test_desk import call

ONE = [{"id": "d", "dock": "a"}]


async def proposed(service: Service, cad_id: str, priority: int) -> str:
    """A call a pilot must launch (priority above the auto-launch policy), ``d`` proposed."""
    result = await service.take_call(call(cad_id, priority))
    assert result.incident.status is IncidentStatus.AWAITING_PILOT
    return result.incident.id


async def test_two_pilots_launching_two_calls_at_once_cannot_both_take_the_drone(
    tmp_path: Path,
) -> None:
    async with running_service(tmp_path, ONE, fleet=True) as service:
        first = await proposed(service, "CAD-A", 3)
        second = await proposed(service, "CAD-B", 3)
        results = await asyncio.gather(
            service.desk.launch(first, "pilot-1"),
            service.desk.launch(second, "pilot-2"),
            return_exceptions=True,
        )
        flights = [r for r in results if isinstance(r, Flight)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(flights) == 1 and len(refused) == 1, results
        (flight,) = flights
        loser = second if flight.incident_id == first else first
        assert isinstance(refused[0], InvalidStateError)
        assert str(refused[0]) == f"no drone can launch for {loser}: d: already on a flight"
        assert service.sorties.busy_drones() == {"d"}
        assert [f.id for f in await service.store.list_flights()] == [flight.id]
        winner = await service.store.get_incident(flight.incident_id or "")
        assert winner is not None and winner.status is IncidentStatus.DISPATCHED

        # the incident has its flight: it cannot be launched again
        with pytest.raises(
            InvalidStateError, match=rf"^incident {winner.id} is dispatched: it cannot be launched$"
        ):
            await service.desk.launch(winner.id, "pilot-2")
        # … nor take a drone by diversion
        with pytest.raises(
            InvalidStateError,
            match=rf"^incident {winner.id} is dispatched: it cannot take a drone$",
        ):
            await service.desk.launch(winner.id, "pilot-2", "d", divert=True)
        # a call as urgent as the one being flown may not take its drone
        with pytest.raises(
            InvalidStateError,
            match=rf"^d flies priority-3 incident {winner.id}; only a more urgent call "
            r"\(priority < 3\) may take it, this one is 3$",
        ):
            await service.desk.launch(loser, "pilot-2", "d", divert=True)


async def test_two_calls_at_once_auto_launch_one_and_queue_the_other(tmp_path: Path) -> None:
    async with running_service(tmp_path, ONE, fleet=True) as service:
        results = await asyncio.gather(
            service.take_call(call("CAD-A", 1)), service.take_call(call("CAD-B", 1))
        )
        statuses = sorted(r.incident.status.value for r in results)
        assert statuses == ["dispatched", "queued"]
        (queued,) = (r.incident for r in results if r.incident.status is IncidentStatus.QUEUED)
        decision = (await service.store.list_decisions(queued.id))[0]
        assert decision.outcome == Outcome.QUEUED.value and decision.ranking == []
        # all drones busy: every one says so
        assert decision.rejections == [{"drone_id": "d", "reason": "already on a flight"}]
        assert len(await service.store.list_flights()) == 1
