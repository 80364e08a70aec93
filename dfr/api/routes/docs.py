"""The API's own documentation, behind a token like every other route: the OpenAPI
document and the interactive page (open it as ``/docs?token=…``)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from dfr.api.access import authenticate, token_of

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
async def openapi_json(request: Request) -> JSONResponse:
    await authenticate(request, query_token=True)
    return JSONResponse(request.app.openapi())


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    """The interactive API documentation: it signs the OpenAPI request with the token the
    page was opened with."""
    await authenticate(request, query_token=True)
    token = token_of(request, query_token=True) or ""
    return get_swagger_ui_html(openapi_url=f"/openapi.json?token={quote(token)}", title="dfr API")
