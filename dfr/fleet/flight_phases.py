"""A sortie's phases and the table of the transitions allowed between them.

::

    docked → preflight → launching → enroute → on_scene → returning → landing → docked
                 │            │          │          │           │
                 └────────────┴──────────┴──────────┴───────────┴──► aborted / failsafe

* **preflight**: upload the route as a mission and the geofence (so the autopilot
  enforces the zones too); wait until the vehicle reports armable.
* **launching**: arm and start the mission (the mission's first item is the takeoff).
* **enroute**: the vehicle flies the mission; progress comes from MISSION_CURRENT.
* **on_scene**: the last route waypoint is reached; orbit the scene.
* **returning**: return-to-launch (pilot's command, on-scene time used up, or the
  monitor's battery reserve); **landing** once the vehicle descends to land;
  **docked** when it is on the ground and disarmed.
* **failsafe**: the vehicle switched itself to RTL/Land/Hold (its own failsafe); we follow it
  and return to the matching phase when it lands.

:func:`check_transition` refuses a change the table does not allow, naming the current
phase; :meth:`dfr.fleet.flight.Flight.set_phase` is the one place a phase changes.
"""

from __future__ import annotations

from dfr.errors import InvalidStateError
from dfr.records import FlightPhase

P = FlightPhase
ALLOWED: dict[FlightPhase, frozenset[FlightPhase]] = {
    P.DOCKED: frozenset({P.PREFLIGHT}),
    P.PREFLIGHT: frozenset({P.LAUNCHING, P.ABORTED}),
    P.LAUNCHING: frozenset({P.ENROUTE, P.ABORTED, P.FAILSAFE, P.RETURNING, P.LANDING}),
    P.ENROUTE: frozenset({P.ON_SCENE, P.RETURNING, P.LANDING, P.FAILSAFE}),
    P.ON_SCENE: frozenset({P.RETURNING, P.LANDING, P.FAILSAFE, P.ENROUTE}),
    P.RETURNING: frozenset({P.LANDING, P.FAILSAFE, P.DOCKED, P.ENROUTE, P.ON_SCENE}),
    P.LANDING: frozenset({P.DOCKED, P.FAILSAFE, P.RETURNING}),
    P.FAILSAFE: frozenset({P.RETURNING, P.LANDING, P.DOCKED, P.ON_SCENE, P.ENROUTE}),
    P.ABORTED: frozenset(),
}
TERMINAL = frozenset({P.DOCKED, P.ABORTED})
# the modes the vehicle should be in, per phase, when resuming after a restart
MODES_OF_PHASE: dict[FlightPhase, frozenset[str]] = {
    P.LAUNCHING: frozenset({"mission", "takeoff", "hold"}),
    P.ENROUTE: frozenset({"mission"}),
    P.ON_SCENE: frozenset({"posctl", "hold", "mission"}),
    P.RETURNING: frozenset({"mission", "return_to_launch"}),
}
# A mode change nobody asked for, in these phases, means the vehicle acted on its own
# (geofence, battery, link-loss or GPS failsafe).
WATCHED_PHASES = frozenset({P.ENROUTE, P.ON_SCENE, P.RETURNING})


def check_transition(flight_id: str, current: FlightPhase, new: FlightPhase, reason: str) -> None:
    """Raise :class:`InvalidStateError` unless the table allows ``current`` → ``new``."""
    if new not in ALLOWED[current]:
        raise InvalidStateError(f"flight {flight_id}: cannot go from {current} to {new} ({reason})")
