"""Who may use each route, generated from the app's route table: every HTTP route and
websocket the app has is knocked on with no credential, with expired and revoked keys,
with each role, with keys of the wrong scope, and with a session cookie from a foreign
page; each must be refused (401, 403, or a websocket closed 1008 before it is accepted)
where :data:`ROUTES` says so, and admitted where it says so.

A route the app has and :data:`ROUTES` does not list fails every test here until it is
listed with what it needs: a new route is covered from the day it is added. So is a new
public one: :data:`PUBLIC` must be exactly the routes that answer without a credential.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import websockets
from websockets.exceptions import InvalidStatus
from websockets.protocol import State

from dfr.api.access import UNSAFE_METHODS
from dfr.auth.api_keys import KeyPreset
from dfr.auth.tokens import Role
from tests.api.route_access import (
    FOREIGN_ORIGIN,
    NOTHING,
    OWN_ORIGIN,
    WS,
    Answer,
    Credential,
    Rig,
    RouteKey,
    access_app,
    rig,
    route_keys,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]


class Reach(StrEnum):
    """What kind of thing a route does, which says which credentials it takes."""

    PUBLIC = "public"  # answers without a credential
    READ = "read"  # shows something: the read scope (a monitor key, not an intake key)
    CHANGE = "change"  # acts on something: never a monitor key
    INTAKE = "intake"  # posts a call: an intake key, or a pilot
    SESSION = "session"  # a person's own session: a machine's credential is none
    LINK = "link"  # an officer's viewer link's own page: no other credential is one


@dataclass(frozen=True, slots=True)
class Need:
    reach: Reach
    role: Role | None = Role.VIEWER  # the least role the route admits (None: no role)
    body: Any = None  # a body that validates, so a role check after validation is reached


CALL = {"cad_id": "A-2", "nature": "test", "priority": 4, "location": {"lat": 47.4, "lon": 8.55}}

# Every route of the app. Add a new route here with what it needs; the tests fail,
# naming it, until then.
ROUTES: dict[RouteKey, Need] = {
    "GET /openapi.json": Need(Reach.READ),
    "GET /docs": Need(Reach.READ),
    "POST /api/v1/calls": Need(Reach.INTAKE, Role.PILOT, CALL),
    "POST /api/v1/calls/eido": Need(Reach.INTAKE, Role.PILOT, {}),
    "GET /api/v1/incidents": Need(Reach.READ),
    "GET /api/v1/incidents/{incident_id}": Need(Reach.READ),
    "POST /api/v1/incidents/{incident_id}/launch": Need(Reach.CHANGE, Role.PILOT),
    "GET /api/v1/drones": Need(Reach.READ),
    "GET /api/v1/drones/{drone_id}": Need(Reach.READ),
    "GET /api/v1/drones/{drone_id}/snapshot.jpg": Need(Reach.READ),
    "GET /api/v1/docks": Need(Reach.READ),
    "POST /api/v1/docks/{dock_id}/hold": Need(
        Reach.CHANGE, Role.SUPERVISOR, {"reason": "lightning within 10 km"}
    ),
    "DELETE /api/v1/docks/{dock_id}/hold": Need(Reach.CHANGE, Role.SUPERVISOR),
    "GET /api/v1/flights": Need(Reach.READ),
    "GET /api/v1/flights/{flight_id}": Need(Reach.READ),
    "GET /api/v1/flights/{flight_id}/recordings/{recording_id}.mp4": Need(
        Reach.READ, Role.SUPERVISOR
    ),
    "POST /api/v1/flights/{flight_id}/commands": Need(Reach.CHANGE, Role.PILOT, {"type": "hold"}),
    "GET /api/v1/flights/{flight_id}/track": Need(Reach.READ),
    "GET /api/v1/me": Need(Reach.READ),
    "GET /api/v1/site": Need(Reach.READ),
    "GET /api/v1/airspace": Need(Reach.READ),
    "GET /api/v1/metrics": Need(Reach.READ),
    "GET /api/v1/metrics.csv": Need(Reach.READ),
    "POST /api/v1/session": Need(Reach.PUBLIC),  # sign-in
    "GET /api/v1/session/notice": Need(Reach.PUBLIC),  # the system use notice, shown first
    "GET /api/v1/session": Need(Reach.SESSION),
    "DELETE /api/v1/session": Need(Reach.SESSION),
    "POST /api/v1/viewer-links": Need(Reach.CHANGE, Role.PILOT, {"drone_id": "d0"}),
    "GET /api/v1/viewer-links": Need(Reach.READ, Role.PILOT),
    "DELETE /api/v1/viewer-links/{link_id}": Need(Reach.CHANGE, Role.PILOT),
    "POST /api/v1/viewer-links/open": Need(Reach.LINK, None),
    "GET /api/v1/viewer-link": Need(Reach.LINK, None),
    "WS /ws/telemetry": Need(Reach.READ),
    "WS /ws/events": Need(Reach.READ),
    "WS /ws/video/{drone_id}": Need(Reach.READ),
}

# The routes that answer without any credential, and nothing else.
PUBLIC: frozenset[RouteKey] = frozenset({"POST /api/v1/session", "GET /api/v1/session/notice"})


def _app_routes() -> list[RouteKey]:
    with tempfile.TemporaryDirectory() as directory:
        return route_keys(access_app(Path(directory)))


APP_ROUTES = _app_routes()
DRONES = ("d0", "d1")  # the rig's site
GUARDED = pytest.mark.parametrize("route", [r for r in APP_ROUTES if r not in PUBLIC])
# the routes a session's Origin matters on: those that change something, and websockets
ACTING = pytest.mark.parametrize(
    "route",
    [
        r
        for r in APP_ROUTES
        if r not in PUBLIC and (r.split(" ", 1)[0] in UNSAFE_METHODS or r.startswith(f"{WS} "))
    ],
)


def need(route: RouteKey) -> Need:
    if route not in ROUTES:
        pytest.fail(
            f"{route} is not in ROUTES (tests/api/test_route_access.py): add it with the "
            "reach and least role it needs (and to PUBLIC if it answers without a credential)"
        )
    return ROUTES[route]


def path_values(rig: Rig, drone_id: str = "d0") -> dict[str, str]:
    """A value for each path parameter a route may have: real ids where the rig has
    them; a route's 404 for the others is an answer after its access check."""
    return {
        "drone_id": drone_id,
        "incident_id": rig.incident_id,
        "flight_id": "no-such-flight",
        "recording_id": "1",
        "link_id": "no-such-link",
        "dock_id": "a",  # the rig's dock: holding twice is a 409, an answer after the check
    }


def url_of(route: RouteKey, values: dict[str, str]) -> tuple[str, str]:
    """(method, url) of ``route`` with its path parameters filled in."""
    method, path = route.split(" ", 1)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            pytest.fail(
                f"{route}: no value for the path parameter {name!r}: add one to path_values"
            )
        return values[name]

    return method, re.sub(r"\{(\w+)(?::\w+)?\}", fill, path)


async def ask(rig: Rig, route: RouteKey, credential: Credential, drone_id: str = "d0") -> Answer:
    method, url = url_of(route, path_values(rig, drone_id))
    return await rig.probe(method, url, credential, body_of(route))


def body_of(route: RouteKey) -> Any:
    return ROUTES[route].body if route in ROUTES else None


def refused_as(route: RouteKey, answer: Answer, status: int, why: str) -> None:
    """``answer`` is a refusal: ``status`` over HTTP, 1008 before accepting a socket."""
    expected = 1008 if route.startswith(f"{WS} ") else status
    assert answer.status == expected, f"{route}, {why}: expected {expected}, got {answer}"


def admitted(route: RouteKey, answer: Answer, why: str) -> None:
    assert not answer.refused, f"{route}, {why}: expected to pass its access check, got {answer}"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    async with rig(tmp_path_factory.mktemp("access")) as ready:
        yield ready


# --- the table is the app's ---------------------------------------------------------


async def test_the_table_lists_every_route_of_the_app_and_no_other() -> None:
    missing = sorted(set(APP_ROUTES) - set(ROUTES))
    stale = sorted(set(ROUTES) - set(APP_ROUTES))
    assert not missing, f"routes not in ROUTES (add each with what it needs): {missing}"
    assert not stale, f"ROUTES lists routes the app does not have (remove them): {stale}"
    assert {r for r, n in ROUTES.items() if n.reach is Reach.PUBLIC} == PUBLIC


async def test_the_public_routes_are_exactly_those_that_answer_without_a_credential(
    running: Rig,
) -> None:
    answered = {route for route in APP_ROUTES if not (await ask(running, route, NOTHING)).refused}
    assert answered == PUBLIC, (
        f"answer without a credential: {sorted(answered - PUBLIC)} (list them in PUBLIC if "
        f"that is meant); refuse though listed public: {sorted(PUBLIC - answered)}"
    )


# --- refusals, route by route -------------------------------------------------------


@GUARDED
async def test_no_credential_is_refused(running: Rig, route: RouteKey) -> None:
    need(route)
    answer = await ask(running, route, NOTHING)
    refused_as(route, answer, 401, "no credential")
    says = ("sign in", "not signed in") + (
        ("viewer link",) if need(route).reach is Reach.LINK else ()
    )
    assert any(words in answer.detail for words in says), answer


@GUARDED
async def test_expired_and_revoked_keys_are_refused(running: Rig, route: RouteKey) -> None:
    need(route)
    for preset in KeyPreset:
        for state in ("expired", "revoked"):
            key = await running.key(preset, **{state: True})
            answer = await ask(running, route, Credential(bearer=key))
            refused_as(route, answer, 401, f"an {state} {preset} key")
            if need(route).reach not in (Reach.SESSION, Reach.LINK):  # a key is neither
                assert state in answer.detail, f"{route}: {answer}"


@GUARDED
async def test_the_least_role_admitted_is_the_one_in_the_table(
    running: Rig, route: RouteKey
) -> None:
    """Each role in turn (a token, or for a person's own routes a session): those below
    the route's role are refused with 403, the route's role and those above pass."""
    wanted = need(route)
    least: Role | None = None
    for role in Role:
        if wanted.reach is Reach.LINK:  # no person's credential is a viewer link
            answer = await ask(running, route, running.token(role))
            assert answer.refused, f"{route}, a {role.label}: expected a refusal, got {answer}"
            continue
        if wanted.reach is Reach.SESSION:
            credential = await running.session(role)
        else:
            credential = running.token(role)
        answer = await ask(running, route, credential)
        if least is None and not answer.refused:
            least = role
        elif least is None:
            refused_as(route, answer, 403, f"a {role.label}")
        else:
            admitted(route, answer, f"a {role.label}, above the {least.label} it admitted")
    assert least is wanted.role, (
        f"{route} admits {least.label if least else 'no role'}, "
        f"ROUTES says {wanted.role.label if wanted.role else 'no role'}"
    )


@GUARDED
async def test_a_key_of_the_wrong_scope_is_refused(running: Rig, route: RouteKey) -> None:
    """An intake key reads nothing, a monitor key changes nothing; a key is no session."""
    wanted = need(route)
    intake = Credential(bearer=await running.key(KeyPreset.INTAKE))
    monitor = Credential(bearer=await running.key(KeyPreset.MONITOR))
    rig_key = Credential(bearer=await running.key(KeyPreset.RIG))
    match wanted.reach:
        case Reach.PUBLIC:
            raise AssertionError(f"{route} is listed public in ROUTES but not in PUBLIC")
        case Reach.SESSION:
            for key in (intake, monitor, rig_key):
                refused_as(route, await ask(running, route, key), 401, "a key on a session route")
        case Reach.LINK:
            for key in (intake, monitor, rig_key):
                answer = await ask(running, route, key)
                assert answer.refused, f"{route}, a key on a viewer link's route: {answer}"
        case Reach.READ:
            refused_as(route, await ask(running, route, intake), 403, "an intake key reading")
            if wanted.role is Role.VIEWER:
                admitted(route, await ask(running, route, monitor), "a monitor key reading")
        case Reach.CHANGE | Reach.INTAKE:
            refused_as(route, await ask(running, route, monitor), 403, "a monitor key acting")
            admitted(route, await ask(running, route, rig_key), "a rig key (a supervisor's reach)")
            if wanted.reach is Reach.INTAKE:
                admitted(route, await ask(running, route, intake), "an intake key posting")
            else:
                refused_as(route, await ask(running, route, intake), 403, "an intake key acting")


@ACTING
async def test_a_session_from_a_foreign_origin_may_not_act_or_open_a_socket(
    running: Rig, route: RouteKey
) -> None:
    """The session cookie rides along on a request another site makes: a request that
    changes something, or a websocket, must come from our own origin."""
    session = await running.session(Role.ADMIN)
    if need(route).reach is Reach.LINK:  # a session is no viewer link, from anywhere
        for origin in (FOREIGN_ORIGIN, None, OWN_ORIGIN):
            answer = await ask(running, route, session.from_origin(origin))
            assert answer.refused, f"{route}, a session from origin {origin}: {answer}"
        return
    for origin in (FOREIGN_ORIGIN, None):
        answer = await ask(running, route, session.from_origin(origin))
        refused_as(route, answer, 403, f"a session from origin {origin}")
        assert "origin" in answer.detail, f"{route}: {answer}"
    admitted(route, await ask(running, route, session), "a session from our own origin")


WEBSOCKETS = pytest.mark.parametrize("route", [r for r in APP_ROUTES if r.startswith(f"{WS} ")])


@WEBSOCKETS
async def test_over_the_network_a_refused_socket_never_opens(running: Rig, route: RouteKey) -> None:
    """uvicorn answers a socket closed before it was accepted with a 403 handshake; the
    same socket with a monitor key opens."""
    _, path = url_of(route, path_values(running))
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(running.ws_base + path):
            pass
    assert refused.value.response.status_code == 403, route
    monitor = await running.key(KeyPreset.MONITOR)
    async with websockets.connect(f"{running.ws_base}{path}?token={monitor}") as ws:
        assert ws.protocol.state is State.OPEN, route


# --- wrong object: a credential bound to one object ---------------------------------


@dataclass(frozen=True, slots=True)
class ObjectBound:
    """A credential bound to one object (say an officer's viewer link for drone d0) and
    the probes it alone may pass: ``"WS /ws/video/d0"``, ``"GET /api/v1/link"`` (method,
    path with its values, ``?query`` if any). It is refused on every route of the app
    with every drone of the site, except those; ``refused`` names more probes it must be
    refused on (``"WS /ws/telemetry?drone_id=d1"``)."""

    credential: Credential
    admitted: frozenset[str]
    refused: tuple[str, ...] = ()


async def drone_link(rig: Rig) -> ObjectBound:
    """An officer's viewer link for drone d0: its video and positions and its own page,
    nothing else (not d1, not the incident it may fly to, not the fleet's events)."""
    text, _ = await rig.service.viewer_links.create(
        drone_id="d0", flight=None, created_by="pilot-token", now=datetime.now(UTC)
    )
    return ObjectBound(
        Credential(bearer=text),
        admitted=frozenset(
            {
                "WS /ws/video/d0",
                "WS /ws/telemetry?drone_id=d0",
                "GET /api/v1/viewer-link",
                "POST /api/v1/viewer-links/open",
            }
        ),
        refused=("WS /ws/telemetry?drone_id=d1", "WS /ws/telemetry"),
    )


# Wrong-object cases: each makes, on the running rig, a credential bound to one object.
WRONG_OBJECT: dict[str, Callable[[Rig], Awaitable[ObjectBound]]] = {"drone link": drone_link}


def every_probe(rig: Rig) -> list[tuple[RouteKey, str, str]]:
    """(route, method, url) for every route of the app, with each drone of the site."""
    probes: dict[tuple[str, str], RouteKey] = {}
    for route in APP_ROUTES:
        for drone_id in DRONES:
            probes.setdefault(url_of(route, path_values(rig, drone_id)), route)
    return [(route, method, url) for (method, url), route in probes.items()]


async def test_every_probe_covers_each_route_once_per_drone_it_names(running: Rig) -> None:
    probes = every_probe(running)
    assert {route for route, _, _ in probes} == set(APP_ROUTES)
    assert ("WS", "/ws/video/d1") in {(m, u) for _, m, u in probes}
    assert len([1 for route, _, _ in probes if route == "GET /api/v1/drones"]) == 1


@pytest.mark.parametrize("case", sorted(WRONG_OBJECT))
async def test_a_credential_for_one_object_is_refused_on_every_other(
    running: Rig, case: str
) -> None:
    bound = await WRONG_OBJECT[case](running)
    visited: set[str] = set()
    for route, method, url in every_probe(running):
        if route in PUBLIC:  # answers anyone
            continue
        visited.add(f"{method} {url}")
        answer = await running.probe(method, url, bound.credential, body_of(route))
        if f"{method} {url}" in bound.admitted:
            admitted(route, answer, f"{case} on {url}")
        else:
            assert answer.refused, f"{case}: {method} {url} ({route}) answered {answer}"
    for probe in sorted(bound.admitted - visited):
        method, url = probe.split(" ", 1)
        admitted(probe, await running.probe(method, url, bound.credential), case)
    for probe in bound.refused:
        method, url = probe.split(" ", 1)
        answer = await running.probe(method, url, bound.credential)
        assert answer.refused, f"{case}: {probe} answered {answer}"
