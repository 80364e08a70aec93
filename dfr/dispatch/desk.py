"""The dispatch desk: calls in, a decision for each, a launch or a diversion.

Every decision that takes a drone is made under one lock (with several instances, an
advisory lock they share: :mod:`dfr.instances.leases`), together with the checks it rests
on: the incident is re-read from the store (it may have been launched by another pilot or
cancelled by the CAD while waiting), the drone's freedom is read from the sorties (and the
store, when other instances fly drones), and the flight is started, by the drone's owner
(:mod:`dfr.instances.owners`), before the lock is let go. So two calls can never both take
one drone, and a launch never acts on a stale incident.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dfr.dispatch.dispatcher import Decision, Outcome, decide
from dfr.dispatch.incidents import IntakeResult, take_call
from dfr.dispatch.intake import CallData
from dfr.errors import InvalidInput, InvalidStateError, NotFound
from dfr.fleet.drone_state import DroneState
from dfr.fleet.monitor import AlertSpec
from dfr.instances.owners import Owners
from dfr.messages import dispatch_body, diverted_body, incident_body, incident_updated_body
from dfr.planning.planner import Planner
from dfr.planning.wind import Wind
from dfr.records import DockHold, Flight, Incident, IncidentStatus
from dfr.site import Policy
from dfr.store.store import Store

logger = logging.getLogger(__name__)

DISPATCHABLE = frozenset({IncidentStatus.NEW, IncidentStatus.AWAITING_PILOT, IncidentStatus.QUEUED})

STATUS_AFTER = {
    Outcome.AUTO_LAUNCH: IncidentStatus.DISPATCHED,
    Outcome.PILOT_LAUNCH: IncidentStatus.DISPATCHED,
    Outcome.AWAITING_PILOT: IncidentStatus.AWAITING_PILOT,
    Outcome.QUEUED: IncidentStatus.QUEUED,
}


class DispatchDesk:
    def __init__(
        self,
        *,
        store: Store,
        planner: Planner,
        owners: Owners,
        policy: Policy,
        states: Callable[[], Mapping[str, DroneState]],
        wind: Callable[[], Wind],
        publish_event: Callable[[dict[str, Any]], None],
        holds: Callable[[], Mapping[str, DockHold]] = dict,
    ) -> None:
        self.store = store
        self.planner = planner
        self.owners = owners
        self.policy = policy
        self._states = states
        self._wind = wind
        self._holds = holds
        self._publish = publish_event
        self._lock = asyncio.Lock()

    # -- calls -------------------------------------------------------------------------

    async def take_call(self, call: CallData) -> IntakeResult:
        """A CAD call: a new incident (decided at once), or an update of its incident."""
        result = await take_call(self.store, call, datetime.now(UTC))
        incident = result.incident
        if result.created:
            self._publish(incident_body(incident))
        elif result.changed:
            self._publish(incident_updated_body(result))
        await self._tell_flight(result, call)
        if result.created and incident.status is IncidentStatus.NEW:
            await self.dispatch(incident)
            refreshed = await self.store.get_incident(incident.id)
            if refreshed is not None:
                result = replace(result, incident=refreshed)
        return result

    async def _tell_flight(self, result: IntakeResult, call: CallData) -> None:
        """What the CAD changed about a call being flown is an alert for its pilot."""
        incident = result.incident
        if "cancelled" in result.changed:
            await self.owners.alert_incident_flight(
                incident.id,
                AlertSpec(
                    "call_cancelled",
                    "warning",
                    f"the CAD cancelled call {incident.cad_id}",
                    "the drone stays on task until a pilot sends it home",
                ),
            )
        if result.pending_location:
            await self.owners.alert_incident_flight(
                incident.id,
                AlertSpec(
                    "location_update",
                    "warning",
                    f"the CAD reports a new location for call {incident.cad_id}: "
                    f"{call.lat_deg:.6f}, {call.lon_deg:.6f}",
                    "not applied automatically; pilot: orbit or go there if it is right",
                ),
            )

    # -- deciding and launching --------------------------------------------------------

    async def dispatch(
        self,
        incident: Incident,
        *,
        pilot: str | None = None,
        drone_id: str | None = None,
    ) -> tuple[Decision, Flight | None]:
        """Rank the fleet for an incident, record the decision, and launch if the policy
        (or the pilot) says so. One decision at a time, across instances too."""
        async with self._lock, self.owners.decisions():
            drones = self._states().keys()
            if drone_id is not None and drone_id not in drones:
                raise NotFound(f"drone {drone_id} does not exist (drones: {', '.join(drones)})")
            # decide on what is stored now, not on what the caller read before the lock
            current = await self.store.get_incident(incident.id)
            if current is None or current.status not in DISPATCHABLE:
                if pilot is not None:
                    state = current.status if current else "gone"
                    raise InvalidStateError(
                        f"incident {incident.id} is {state}: it cannot be launched"
                    )
                return Decision(Outcome.QUEUED, None, [], [], 0.0), None
            decision = await self._decide(current, pilot is not None, drone_id)
            flight = await self._act(current, decision, pilot)
        self._publish(dispatch_body(current.id, decision, flight, by=pilot or "automation"))
        return decision, flight

    async def _decide(self, incident: Incident, pilot: bool, drone_id: str | None) -> Decision:
        """The ranking, stored. It is pure CPU (10-20 ms for 50 drones over 500 zones): off
        the event loop, so telemetry keeps flowing meanwhile; its inputs are snapshots."""
        busy = frozenset(await self.owners.busy_now())
        decision = await asyncio.to_thread(
            decide,
            self.planner,
            incident,
            self._states(),
            busy,
            self.policy,
            wind=self._wind(),
            only_drone=drone_id,
            pilot=pilot,
            holds=dict(self._holds()),
        )
        await self.store.add_decision(
            incident.id,
            outcome=decision.outcome.value,
            chosen_drone_id=decision.chosen.drone_id if decision.chosen else None,
            ranking=decision.ranking,
            rejections=decision.rejections,
            elapsed_ms=decision.elapsed_ms,
            decided_at=datetime.now(UTC),
        )
        return decision

    async def _act(
        self, incident: Incident, decision: Decision, pilot: str | None
    ) -> Flight | None:
        """Launch what the decision says, and give the incident its new status."""
        now = datetime.now(UTC)
        status = STATUS_AFTER[decision.outcome]
        if pilot is not None and decision.chosen is None:
            reasons = "; ".join(f"{r['drone_id']}: {r['reason']}" for r in decision.rejections)
            raise InvalidStateError(
                f"no drone can launch for {incident.id}: {reasons or 'no drones'}"
            )
        flight = None
        if decision.chosen is not None and status is IncidentStatus.DISPATCHED:
            reason = (
                f"launched by {pilot}" if pilot else f"auto-launch (priority {incident.priority})"
            )
            chosen = decision.chosen
            flight = await self.owners.launch(incident, chosen.drone_id, chosen.route, reason)
        await self.store.update_incident(replace(incident, status=status, updated_at=now))
        logger.info(
            "dispatch %s: %s %s (%.1f ms)",
            incident.id,
            decision.outcome,
            decision.chosen.drone_id if decision.chosen else "-",
            decision.elapsed_ms,
        )
        return flight

    async def launch(
        self, incident_id: str, by: str, drone_id: str | None = None, *, divert: bool = False
    ) -> Flight:
        """A pilot (``by``) launches for an incident: the best drone, or ``drone_id``; with
        ``divert``, ``drone_id`` is a flying drone taken from a less urgent call."""
        incident = await self.store.get_incident(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} does not exist")
        if divert:
            return await self._divert(incident, by, drone_id)
        _decision, flight = await self.dispatch(incident, pilot=by, drone_id=drone_id)
        assert flight is not None
        return flight

    # -- diverting ---------------------------------------------------------------------

    async def _divert(self, incident: Incident, by: str, drone_id: str | None) -> Flight:
        """A pilot takes a flying drone from a less urgent call for this one."""
        if drone_id is None:
            raise InvalidInput("drone_id", "a diversion names the drone to take")
        async with self._lock, self.owners.decisions():
            current, flying, old = await self._divertible(incident.id, drone_id)
            flight = await self._take_over(current, flying, old, by)
        self._publish(diverted_body(current.id, flight, old.id if old else None, by=by))
        if old is not None:  # the call it left behind looks for another drone
            refreshed = await self.store.get_incident(old.id)
            if refreshed is not None:
                await self.dispatch(refreshed)
        return flight

    async def _divertible(
        self, incident_id: str, drone_id: str
    ) -> tuple[Incident, Flight, Incident | None]:
        """The incident as stored now, the drone's flight and the incident that flight is
        for, if the drone may be taken for this incident; else why not (an error)."""
        flying = await self.owners.active_record(drone_id)
        if flying is None:
            raise InvalidStateError(f"{drone_id} is not flying: launch it without divert")
        incident = await self.store.get_incident(incident_id)
        if incident is None or incident.status not in DISPATCHABLE:
            state = incident.status if incident else "gone"
            raise InvalidStateError(f"incident {incident_id} is {state}: it cannot take a drone")
        old_id = flying.incident_id
        old = await self.store.get_incident(old_id) if old_id else None
        if old is not None and old.priority <= incident.priority:
            raise InvalidStateError(
                f"{drone_id} flies priority-{old.priority} incident {old.id}; only a more urgent call "
                f"(priority < {old.priority}) may take it, this one is {incident.priority}"
            )
        if not self._states()[drone_id].has_position:
            raise InvalidStateError(f"{drone_id} has no position yet")
        return incident, flying, old

    async def _take_over(
        self, incident: Incident, flying: Flight, old: Incident | None, by: str
    ) -> Flight:
        """Send the flying drone to ``incident`` from where it is, and record it."""
        drone_id = flying.drone_id
        now = datetime.now(UTC)
        reason = f"diverted by {by} from {old.id if old else 'its flight'} to {incident.id}"
        flight = await self.owners.divert(drone_id, incident, reason, by)
        await self.store.add_decision(
            incident.id,
            outcome=Outcome.PILOT_LAUNCH.value,
            chosen_drone_id=drone_id,
            ranking=[],
            rejections=[],
            elapsed_ms=0.0,
            decided_at=now,
        )
        await self.store.update_incident(
            replace(incident, status=IncidentStatus.DISPATCHED, updated_at=now)
        )
        if old is not None:
            await self.store.update_incident(
                replace(old, status=IncidentStatus.QUEUED, updated_at=now)
            )
        return flight

    # -- the queue ---------------------------------------------------------------------

    async def serve_queue(self) -> None:
        """Decide again for every waiting call, most urgent and oldest first."""
        waiting = await self.store.list_incidents(status=IncidentStatus.QUEUED)
        waiting += await self.store.list_incidents(status=IncidentStatus.NEW)  # e.g. after a crash
        for incident in sorted(waiting, key=lambda i: (i.priority, i.received_at)):
            await self.dispatch(incident)

    def readiness(self) -> tuple[Any, ...]:
        """What decides whether a waiting call could now be served: the wind, the docks
        on hold, and each drone's link, freedom, readiness and battery (in 5 % steps)."""
        busy = self.owners.busy_drones()
        return (
            self._wind(),
            tuple(sorted(self._holds())),
            tuple(
                (
                    d,
                    s.link,
                    d in busy,
                    s.armable,
                    s.health_ok,
                    s.landed,
                    round(s.battery_pct / 5) if math.isfinite(s.battery_pct) else -1,
                )
                for d, s in sorted(self._states().items())
            ),
        )
