"""What acts on a vehicle, sent to the instance that owns it: NATS request/reply.

The owner of a drone answers on ``dfr.<site>.owner.<drone_id>`` (one subscription per
drone it owns, read by one task of its own, so a drone's requests are taken in order).
A request is ``{"op", "args"}``; the answer ``{"ok": …}`` or ``{"error": {…}}``, the
error raised again at the caller as the same kind (a NotFound stays a 404, a vehicle's
refusal a 409). No owner at all (it died and no one has taken the drone yet) is NATS's
"no responders", immediate: the request is refused, and nothing was sent. An owner that
took the request and did not answer in time may have acted: the caller says the outcome
is unknown.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.aio.subscription import Subscription

from dfr.bus_wire import subject_token
from dfr.errors import (
    CommandError,
    CommandTimeout,
    DfrError,
    InvalidInput,
    InvalidStateError,
    LinkError,
    NoRoute,
    NotFound,
    PlanningError,
)

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
Handle = Callable[[str, str, JSON], Awaitable[Any]]  # (drone_id, op, args) -> result

_PLAIN: dict[str, type[DfrError]] = {
    "not_found": NotFound,
    "invalid_state": InvalidStateError,
    "planning": PlanningError,
    "no_route": NoRoute,
}


def error_out(exc: BaseException) -> JSON:
    """An error as the caller should raise it again."""
    if isinstance(exc, CommandError):
        kind = "timeout" if isinstance(exc, CommandTimeout) else "command"
        return {
            "kind": kind,
            "drone_id": exc.drone_id,
            "command": exc.command,
            "result": exc.result,
            "message": exc.detail,
        }
    if isinstance(exc, LinkError):
        return {"kind": "link", "drone_id": exc.drone_id, "message": str(exc)}
    if isinstance(exc, InvalidInput):
        return {"kind": "invalid_input", "field": exc.field, "message": str(exc)}
    for kind, cls in _PLAIN.items():
        if type(exc) is cls:
            return {"kind": kind, "message": str(exc)}
    return {"kind": "other", "message": f"{type(exc).__name__}: {exc}"}


def error_in(body: JSON, drone_id: str) -> DfrError:
    kind, message = body.get("kind"), str(body.get("message", ""))
    if kind in ("command", "timeout"):
        cls = CommandTimeout if kind == "timeout" else CommandError
        return cls(body["drone_id"], body["command"], body["result"], message)
    if kind == "link":
        return LinkError(body["drone_id"], message.removeprefix(f"{body['drone_id']}: "))
    if kind == "invalid_input":
        field = str(body.get("field", ""))
        return InvalidInput(field, message.removeprefix(f"{field}: ") if field else message)
    if kind in _PLAIN:
        return _PLAIN[kind](message)
    return LinkError(drone_id, f"its owner instance failed: {message}")


class OwnerCalls:
    def __init__(self, client: Callable[[], Client], site_token: str, handle: Handle) -> None:
        self._client = client
        self._site = site_token
        self._handle = handle
        self._subscriptions: dict[str, Subscription] = {}

    def subject(self, drone_id: str) -> str:
        return f"dfr.{self._site}.owner.{subject_token(drone_id)}"

    # -- the owner's side ------------------------------------------------------------------

    async def subscribe(self, drone_id: str) -> Subscription:
        """Answer for ``drone_id`` from now on; :meth:`serve` reads the requests."""
        subscription = await self._client().subscribe(self.subject(drone_id))
        self._subscriptions[drone_id] = subscription
        return subscription

    async def serve(self, drone_id: str, subscription: Subscription) -> None:
        """Answer ``drone_id``'s requests, one at a time, until cancelled."""
        try:
            async for message in subscription.messages:
                try:
                    request = json.loads(message.data)
                    result = await self._handle(drone_id, request["op"], request["args"])
                    reply: JSON = {"ok": result}
                except DfrError as exc:
                    reply = {"error": error_out(exc)}
                except Exception as exc:
                    logger.exception("%s: a request from another instance failed", drone_id)
                    reply = {"error": error_out(exc)}
                if message.reply:
                    await message.respond(json.dumps(reply).encode())
        finally:
            self._subscriptions.pop(drone_id, None)
            with contextlib.suppress(InvalidStateError, nats.errors.Error):
                if not self._client().is_closed:  # at shutdown the bus may be closed first
                    await subscription.unsubscribe()

    # -- the caller's side -----------------------------------------------------------------

    async def call(self, drone_id: str, op: str, args: JSON, *, timeout_s: float) -> Any:
        """``op`` on ``drone_id``'s owner; its error raised here. No owner: a LinkError
        (nothing was done); no answer in time: a CommandTimeout (it may have been done)."""
        payload = json.dumps({"op": op, "args": args}).encode()
        try:
            message = await self._client().request(
                self.subject(drone_id), payload, timeout=timeout_s
            )
        except nats.errors.NoRespondersError:
            raise LinkError(
                drone_id,
                "no instance owns it right now (its owner stopped, and another takes it over "
                "within a few seconds): nothing was sent; try again",
            ) from None
        except (TimeoutError, nats.errors.TimeoutError):
            raise CommandTimeout(
                drone_id,
                op,
                "no answer",
                f"its owner instance did not answer within {timeout_s:.0f} s; the outcome is "
                "unknown (see the flight's commands)",
            ) from None
        reply = json.loads(message.data)
        if "error" in reply:
            raise error_in(reply["error"], drone_id)
        return reply["ok"]
