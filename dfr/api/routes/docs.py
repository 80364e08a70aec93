"""The API's own documentation, behind a credential that may read, like every other
route: the OpenAPI document and the interactive page (open it as ``/docs?token=…``).

The page is Swagger UI from this service's own files (``/vendor/swagger-ui-dist``, see
:mod:`dfr.api.vendor`), started by ``web/api_docs.js``: no CDN, and no inline script or
style, so it runs under the content security policy every page carries
(:mod:`dfr.api.security_headers`)."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from dfr.api.access import reader, token_of

router = APIRouter(include_in_schema=False)

SWAGGER_UI = "/vendor/swagger-ui-dist"
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>dfr API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{swagger_ui}/swagger-ui.css">
  <script src="{swagger_ui}/swagger-ui-bundle.js" defer></script>
  <script src="/api_docs.js" defer></script>
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
</body>
</html>
"""


@router.get("/openapi.json")
async def openapi_json(request: Request) -> JSONResponse:
    await reader(request, query_token=True)
    return JSONResponse(request.app.openapi())


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    """The interactive API documentation: it signs the OpenAPI request with the token the
    page was opened with."""
    await reader(request, query_token=True)
    token = token_of(request, query_token=True) or ""
    openapi_url = f"/openapi.json?token={quote(token, safe='')}"
    return HTMLResponse(
        DOCS_PAGE.format(swagger_ui=SWAGGER_UI, openapi_url=escape(openapi_url, quote=True))
    )
