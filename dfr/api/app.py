"""The FastAPI app: REST under ``/api/v1``, websockets under ``/ws``, the console at ``/``.

``create_app(settings, site)`` only assembles: the lifespan enters the
:class:`~dfr.service.Service` (and so its task group) and yields it as typed state; the
routes live in :mod:`dfr.api.routes`, their bodies in :mod:`dfr.api.schemas`, and every
error becomes a JSON body a person can act on in :mod:`dfr.api.error_responses`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from dfr.api import error_responses
from dfr.api.body_limit import BodyLimit
from dfr.api.caller_first import CallerFirst
from dfr.api.limits import Rate, RateLimit, rule
from dfr.api.routes import (
    calls,
    docs,
    drones,
    flights,
    incidents,
    metrics,
    session,
    viewer_links,
    websockets,
)
from dfr.api.routes import site as site_routes
from dfr.api.schemas import ErrorOut, InvalidInputOut
from dfr.api.security_headers import SecurityHeaders
from dfr.api.vendor import mount_vendor
from dfr.config import Settings
from dfr.site import Site

if TYPE_CHECKING:
    from dfr.service import Service

WEB_DIR = Path(__file__).resolve().parents[2] / "web"

# every route may answer these; the body is always an ErrorOut
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "not signed in, or an unknown token"},
    403: {
        "model": ErrorOut,
        "description": "the caller's role may not do this, or a cookie from another origin",
    },
}
# routes that take input (a body, a path or a query parameter): dfr's own 422 body, in
# place of FastAPI's default one, which dfr never sends
WITH_INPUT: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    413: {"model": ErrorOut, "description": "the body is larger than the route takes"},
    422: {"model": InvalidInputOut, "description": "the input is wrong: which field, and why"},
}
# routes under a rate limit per client address (call intake, sign-in)
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorOut,
        "description": "too many requests from this address: wait the Retry-After seconds",
        "headers": {
            "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
        },
    },
}
INTAKE_PATHS = ("/api/v1/calls", "/api/v1/calls/eido")
SIGNIN_PREFIX = "/api/v1/session"
WITH_ID: dict[int | str, dict[str, Any]] = {
    **WITH_INPUT,
    404: {"model": ErrorOut, "description": "no such incident, drone, flight or recording"},
}


class State(TypedDict):
    service: Service


def create_app(settings: Settings, site: Site, *, service: Service | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[State]:
        if service is not None:
            async with service as running:
                yield {"service": running}
            return
        # the API needs the service's type only; building one is the composition root's
        # job, done here when the caller (a test, a benchmark) gave none
        from dfr.service import Service

        async with Service(settings, site) as running:
            yield {"service": running}

    app = FastAPI(
        title="dfr",
        summary="Drone-as-First-Responder control service",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by routes.docs, behind a token like every other route
        redoc_url=None,
        openapi_url=None,
    )
    error_responses.install(app)
    app.include_router(docs.router)
    app.include_router(calls.router, responses={**WITH_INPUT, **RATE_LIMITED})
    for part in (incidents, drones, flights, viewer_links):
        app.include_router(part.router, responses=WITH_ID)
    app.include_router(site_routes.router, responses=ERRORS)
    app.include_router(metrics.router, responses=WITH_INPUT)
    app.include_router(session.router, responses={**WITH_INPUT, **RATE_LIMITED})
    app.include_router(websockets.router)
    mount_vendor(app)  # /vendor/leaflet, /vendor/swagger-ui-dist: before "/" claims them
    # The console and viewer pages (static; they sign in with a token, see web/README).
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True, check_dir=False), name="web")
    install_guards(app, settings)
    return app


def install_guards(app: FastAPI, settings: Settings) -> None:
    """What every request passes before a route: security headers on the answer (the
    outermost, so a refusal carries them too), the rate limits, the caller's credential
    (before anything reads the body), the body limit."""
    app.add_middleware(
        BodyLimit,
        limit_bytes=settings.body_limit_bytes,
        path_limits_bytes={"/api/v1/calls/eido": settings.eido_body_limit_bytes},
    )
    app.add_middleware(CallerFirst)
    intake = Rate(settings.intake_rate_per_min, settings.intake_burst)
    signin = Rate(settings.signin_rate_per_min, settings.signin_burst)
    app.add_middleware(
        RateLimit,
        rules=[
            rule("call intake", intake, paths=INTAKE_PATHS),
            rule("sign-in", signin, prefixes=[SIGNIN_PREFIX]),
        ],
    )
    app.add_middleware(SecurityHeaders, tile_url=settings.map_tile_url)
