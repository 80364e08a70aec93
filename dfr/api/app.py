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
from dfr.api.routes import calls, docs, drones, flights, incidents, session, websockets
from dfr.api.routes import site as site_routes
from dfr.api.schemas import ErrorOut, InvalidInputOut
from dfr.api.vendor import mount_vendor
from dfr.config import Settings
from dfr.site import Site

if TYPE_CHECKING:
    from dfr.service import Service

WEB_DIR = Path(__file__).resolve().parents[2] / "web"

# every route may answer these; the body is always an ErrorOut
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no token, or an unknown one"},
    403: {"model": ErrorOut, "description": "the token's role may not do this"},
}
# routes that take input (a body, a path or a query parameter): dfr's own 422 body, in
# place of FastAPI's default one, which dfr never sends
WITH_INPUT: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    422: {"model": InvalidInputOut, "description": "the input is wrong: which field, and why"},
}
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
    app.include_router(calls.router, responses=WITH_INPUT)
    for part in (incidents, drones, flights):
        app.include_router(part.router, responses=WITH_ID)
    app.include_router(site_routes.router, responses=ERRORS)
    app.include_router(session.router, responses=WITH_INPUT)
    app.include_router(websockets.router)
    mount_vendor(app)  # /vendor/leaflet, /vendor/swagger-ui-dist: before "/" claims them
    # The console and viewer pages (static; they sign in with a token, see web/README).
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True, check_dir=False), name="web")
    return app
