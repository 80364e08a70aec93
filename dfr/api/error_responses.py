"""One place where errors become answers: every `DfrError` and every request that does
not validate gets a status and a JSON body a person can act on."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dfr.api.schemas import ErrorOut
from dfr.errors import (
    AccessDenied,
    CommandError,
    ConfigError,
    DfrError,
    InvalidInput,
    InvalidStateError,
    LinkError,
    NotFound,
    PlanningError,
)


def status_for(exc: DfrError) -> int:
    if isinstance(exc, AccessDenied):
        return 403 if exc.authenticated else 401
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidInput | PlanningError):
        return 422
    if isinstance(exc, InvalidStateError):
        return 409
    if isinstance(exc, CommandError):
        return 502
    if isinstance(exc, LinkError):
        return 503
    if isinstance(exc, ConfigError):
        return 500
    return 500


async def dfr_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DfrError)
    status = status_for(exc)
    body = ErrorOut(error=type(exc).__name__, detail=str(exc), field=getattr(exc, "field", None))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "body")
        problems.append({"field": loc, "problem": err["msg"]})
    detail = "; ".join(f"{p['field'] or 'body'}: {p['problem']}" for p in problems)
    return JSONResponse(
        {"error": "InvalidInput", "detail": detail, "problems": problems}, status_code=422
    )


async def unreadable_body(request: Request, exc: Exception) -> Response:
    """FastAPI answers a body it cannot read as JSON at all (not UTF-8) with a bare 400;
    that is bad input like any other: dfr's 422, naming the body. Other HTTP errors
    (404, 405 from routing) keep FastAPI's answer."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code != 400:
        return await http_exception_handler(request, exc)
    cause = exc.__cause__
    problem = f"not JSON: {cause}" if cause is not None else "not JSON"
    return JSONResponse(
        {
            "error": "InvalidInput",
            "detail": f"body: {problem}",
            "problems": [{"field": "body", "problem": problem}],
        },
        status_code=422,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DfrError, dfr_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, unreadable_body)
