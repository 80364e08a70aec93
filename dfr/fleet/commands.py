"""Commands to a vehicle, pilot's and dfr's own alike: recorded, sent, and resolved.

Every command is written before it is sent and finished with the vehicle's answer. A
command the vehicle did not answer in time is *resolved by reading the vehicle* before
anything else is sent: if the vehicle shows what the command asked for (its mode), it
was done; if the link is up and it does not, it was not done and may be sent again; if
the link is down, the outcome is unknown and the command is not re-sent. The record's
result says which, and how it was found out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from dfr.errors import CommandError, CommandTimeout, LinkError
from dfr.fleet.command_kinds import Command
from dfr.records import CommandState
from dfr.store.store import Store

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What reading the vehicle after a timeout showed."""

    state: CommandState  # ACCEPTED (done), REJECTED (not done), UNKNOWN (could not tell)
    result: str


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    command_id: int
    state: CommandState
    result: str
    detail: str


class Resolver(Protocol):
    async def resolve_timeout(self) -> Resolution:
        """Read the vehicle to find out whether the last command was done."""
        ...


async def execute(
    store: Store,
    resolver: Resolver,
    *,
    flight_id: str,
    drone_id: str,
    command: Command,
    issued_by: str,
    action: Callable[[], Awaitable[None]],
) -> CommandOutcome:
    """Record the command (its ``type`` and :meth:`params`), run ``action`` (what carries
    it out), and finish the record with what happened."""
    kind = command.type
    record = await store.add_command(
        flight_id=flight_id,
        drone_id=drone_id,
        type=kind,
        params=command.params(),
        issued_by=issued_by,
        issued_at=_now(),
    )
    try:
        await action()
        state, result, detail = CommandState.ACCEPTED, "accepted", ""
    except CommandTimeout as exc:
        resolution = await resolver.resolve_timeout()
        state, result, detail = resolution.state, resolution.result, str(exc)
        logger.info("%s: %s timed out; %s", drone_id, kind, result)
    except (CommandError, LinkError) as exc:
        state, result, detail = CommandState.REJECTED, getattr(exc, "result", "link_down"), str(exc)
    except Exception as exc:  # a failure on our side: the command did not go out whole
        state, result, detail = CommandState.REJECTED, str(exc)[:200], str(exc)
    await store.finish_command(record.id, state, result, _now())
    return CommandOutcome(record.id, state, result, detail)


def raise_unless_done(drone_id: str, kind: str, outcome: CommandOutcome) -> None:
    """For dfr's own commands: an outcome other than done is an exception, a timeout whose
    outcome stays unknown a :class:`CommandTimeout` (never re-sent blindly)."""
    if outcome.state is CommandState.ACCEPTED:
        return
    if outcome.state is CommandState.UNKNOWN:
        raise CommandTimeout(drone_id, kind, "unknown", outcome.result)
    raise CommandError(drone_id, kind, outcome.result, outcome.detail)
