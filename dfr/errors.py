"""Errors raised by dfr, one tree for the whole service.

    DfrError
    ├── ConfigError          settings or a site file is wrong (names the file and field)
    ├── LinkError            a drone's MAVLink link is down or could not be opened
    ├── CommandError         the vehicle rejected a command, or did not answer in time
    │   └── CommandTimeout
    ├── PlanningError        no legal route, or a start/goal inside a zone
    │   └── NoRoute
    ├── InvalidStateError    an action that the current state does not allow
    ├── NotFound             an incident, flight, drone or dock id that does not exist
    ├── InvalidInput         a request body that cannot be used (names the field)
    ├── AccessDenied         no token, a bad token, or a role that may not do this
    └── VideoError           a video source could not be read or parsed

Every error carries the evidence a person needs to act on it (drone id, command,
result, file, field). Adapters translate foreign exceptions into these in one place
and chain them with ``from exc``; the API maps them to HTTP status codes in one
exception handler.
"""

from __future__ import annotations


class DfrError(Exception):
    """Base of every error dfr raises on purpose."""


class ConfigError(DfrError):
    """A setting or a site file is invalid; the message names the file and the field."""


class LinkError(DfrError):
    """A drone's link is down or could not be opened."""

    def __init__(self, drone_id: str, message: str) -> None:
        super().__init__(f"{drone_id}: {message}")
        self.drone_id = drone_id


class CommandError(DfrError):
    """A vehicle refused a command or did not confirm it."""

    def __init__(self, drone_id: str, command: str, result: str, message: str = "") -> None:
        text = f"{drone_id}: {command} -> {result}"
        super().__init__(f"{text}: {message}" if message else text)
        self.drone_id = drone_id
        self.command = command
        self.result = result
        self.detail = message


class CommandTimeout(CommandError):
    """No answer from the vehicle in time; the outcome of the command is unknown."""


class PlanningError(DfrError):
    """No legal route can be planned, or the request itself is not legal."""


class NoRoute(PlanningError):
    """Start and goal are legal but no legal path joins them."""


class InvalidStateError(DfrError):
    """The action is not allowed in the current state (the message names the state)."""


class NotFound(DfrError):
    """An id that does not exist."""


class InvalidInput(DfrError):
    """Input that cannot be used; ``field`` names where the problem is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class AccessDenied(DfrError):
    """Missing or bad credentials (``authenticated`` False) or a role that may not act."""

    def __init__(self, message: str, *, authenticated: bool) -> None:
        super().__init__(message)
        self.authenticated = authenticated


class SignInRequired(AccessDenied):
    """A viewer link the agency's policy opens only for a person signed in as well."""

    def __init__(self, message: str) -> None:
        super().__init__(message, authenticated=False)


class VideoError(DfrError):
    """A video source could not be opened or its stream could not be parsed."""
