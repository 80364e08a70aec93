"""Run it here or send it to the owner: what the desk and the API do to vehicles.

:class:`Owners` is the one place that knows drones may be owned elsewhere. Each
operation runs on this instance's :class:`~dfr.fleet.sorties.Sorties` when it owns the
drone (always, with one instance), and otherwise goes to the owner through
:class:`~.owner_calls.OwnerCalls`, where :meth:`Owners.handle` runs it on that instance's
sorties. Which drones are flying is read from the store when other instances may have
launched them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from dfr.errors import InvalidInput, InvalidStateError, NotFound
from dfr.fleet.command_kinds import Altitude, Goto, Hold, Land, Orbit, PilotCommand, Return
from dfr.fleet.monitor import AlertSpec
from dfr.fleet.sorties import Sorties
from dfr.fleet.vehicle_link import VehicleLink
from dfr.instances.leases import Leases
from dfr.instances.mirror_link import MirrorLink
from dfr.instances.owner_calls import OwnerCalls
from dfr.planning.planner import Planner
from dfr.planning.route import Route
from dfr.planning.wind import Wind
from dfr.records import Flight as FlightRecord
from dfr.records import Incident
from dfr.store.store import Store

LAUNCH_ANSWER_S = 30.0  # the owner plans, stores the flight and starts it: well under this
COMMAND_ANSWER_S = 75.0  # the owner waits up to 60 s for the vehicle's answer
ALERT_ANSWER_S = 10.0

_PILOT_KINDS: dict[str, type[PilotCommand]] = {
    kind.type: kind for kind in (Orbit, Goto, Altitude, Hold, Return, Land)
}


def command_out(command: PilotCommand) -> dict[str, Any]:
    return {"type": command.type, **dataclasses.asdict(command)}


def command_in(body: dict[str, Any]) -> PilotCommand:
    fields = dict(body)
    kind = _PILOT_KINDS.get(str(fields.pop("type", "")))
    if kind is None:
        raise InvalidInput("type", f"not a pilot command: {body.get('type')!r}")
    return kind(**fields)


class Owners:
    def __init__(
        self,
        *,
        sorties: Sorties,
        store: Store,
        planner: Planner,
        links: dict[str, VehicleLink],
        leases: Callable[[], Leases],
        calls: Callable[[], OwnerCalls | None],
        wind: Callable[[], Wind],
    ) -> None:
        self.sorties = sorties
        self.store = store
        self.planner = planner
        self.links = links
        self._leases = leases
        self._calls = calls
        self._wind = wind

    @property
    def several(self) -> bool:
        return self._leases().several

    def is_local(self, drone_id: str) -> bool:
        return not self.several or self._leases().owns(drone_id)

    def _owner_calls(self) -> OwnerCalls:
        calls = self._calls()
        if calls is None:
            raise InvalidStateError("several instances need the NATS bus (DFR_BUS_URL)")
        return calls

    def decisions(self) -> AbstractAsyncContextManager[None]:
        """Held while a decision takes a drone: across every instance."""
        return self._leases().decisions()

    # -- reads -----------------------------------------------------------------------------

    def flight_id_of(self, drone_id: str) -> str | None:
        """The flight ``drone_id`` flies, here or (as its owner last said) elsewhere."""
        active = self.sorties.flight_of_drone(drone_id)
        if active is not None:
            return active.record.id
        link = self.links.get(drone_id)
        return link.flight_id if isinstance(link, MirrorLink) else None

    def busy_drones(self) -> set[str]:
        """Drones on a flight, as far as this instance hears (for the queue's readiness)."""
        mirrored = {d for d, link in self.links.items() if isinstance(link, MirrorLink)}
        return self.sorties.busy_drones() | {d for d in mirrored if self.flight_id_of(d)}

    async def busy_now(self) -> set[str]:
        """Drones on a flight, for a decision: with several instances, from the store
        (a flight launched elsewhere a moment ago is there before its first position)."""
        busy = self.sorties.busy_drones()
        if self.several:
            busy |= {f.drone_id for f in await self.store.list_flights(active_only=True)}
        return busy

    async def active_record(self, drone_id: str) -> FlightRecord | None:
        active = self.sorties.flight_of_drone(drone_id)
        if active is not None:
            return active.record
        if not self.several:
            return None
        flights = await self.store.list_flights(active_only=True)
        return next((f for f in flights if f.drone_id == drone_id), None)

    # -- what acts on a vehicle ------------------------------------------------------------

    async def launch(
        self, incident: Incident, drone_id: str, route: Route | None, reason: str
    ) -> FlightRecord:
        if self.is_local(drone_id):
            return await self.sorties.launch(incident.id, drone_id, route, reason)
        args = {"incident_id": incident.id, "reason": reason}
        flight_id = await self._owner_calls().call(
            drone_id, "launch", args, timeout_s=LAUNCH_ANSWER_S
        )
        return await self._stored(str(flight_id))

    async def divert(self, drone_id: str, incident: Incident, reason: str, by: str) -> FlightRecord:
        if self.is_local(drone_id):
            return await self.sorties.divert_to(
                drone_id, incident.id, incident.lat_deg, incident.lon_deg, reason, by
            )
        args = {"incident_id": incident.id, "reason": reason, "by": by}
        flight_id = await self._owner_calls().call(
            drone_id, "divert", args, timeout_s=COMMAND_ANSWER_S
        )
        return await self._stored(str(flight_id))

    async def command(self, flight_id: str, command: PilotCommand, by: str) -> dict[str, Any]:
        """A pilot's command to a flight, wherever its drone's owner is."""
        if flight_id in self.sorties.active or not self.several:
            return await self.sorties.command(flight_id, command, by)
        record = await self.store.get_flight(flight_id)
        if record is None or record.ended_at is not None or self.is_local(record.drone_id):
            # not flying, or ours and not resumed yet: the sorties say which, as always
            return await self.sorties.command(flight_id, command, by)
        args = {"flight_id": flight_id, "command": command_out(command), "by": by}
        answer = await self._owner_calls().call(
            record.drone_id, "command", args, timeout_s=COMMAND_ANSWER_S
        )
        return dict(answer)

    async def alert_incident_flight(self, incident_id: str, spec: AlertSpec) -> bool:
        """An alert on the flight serving ``incident_id``, raised by the drone's owner."""
        if await self.sorties.alert_incident_flight(incident_id, spec):
            return True
        if not self.several:
            return False
        for flight in await self.store.list_flights(active_only=True):
            if flight.incident_id == incident_id and not self.is_local(flight.drone_id):
                args = {"incident_id": incident_id, "spec": dataclasses.asdict(spec)}
                return bool(
                    await self._owner_calls().call(
                        flight.drone_id, "alert", args, timeout_s=ALERT_ANSWER_S
                    )
                )
        return False

    async def _stored(self, flight_id: str) -> FlightRecord:
        record = await self.store.get_flight(flight_id)
        if record is None:
            raise NotFound(f"flight {flight_id} (started by the drone's owner) is not stored")
        return record

    # -- the owner's side: requests from other instances --------------------------------

    async def handle(self, drone_id: str, op: str, args: dict[str, Any]) -> Any:
        """Run another instance's request on a drone this instance owns."""
        if not self.is_local(drone_id):
            raise InvalidStateError(f"{drone_id} is not owned by this instance any more")
        if op == "launch":
            incident = await self._incident(args["incident_id"])
            state = self.links[drone_id].state
            charge = state.battery_pct / 100.0 if state.battery_pct == state.battery_pct else 1.0
            route = self.planner.plan_route(
                drone_id,
                incident.lat_deg,
                incident.lon_deg,
                wind=self._wind(),
                charge_frac=min(1.0, max(0.0, charge)),
            )
            record = await self.sorties.launch(incident.id, drone_id, route, args["reason"])
            return record.id
        if op == "divert":
            incident = await self._incident(args["incident_id"])
            record = await self.sorties.divert_to(
                drone_id,
                incident.id,
                incident.lat_deg,
                incident.lon_deg,
                args["reason"],
                args["by"],
            )
            return record.id
        if op == "command":
            return await self.sorties.command(
                args["flight_id"], command_in(args["command"]), args["by"]
            )
        if op == "alert":
            return await self.sorties.alert_incident_flight(
                args["incident_id"], AlertSpec(**args["spec"])
            )
        raise InvalidInput("op", f"unknown request {op!r}")

    async def _incident(self, incident_id: str) -> Incident:
        incident = await self.store.get_incident(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} does not exist")
        return incident
