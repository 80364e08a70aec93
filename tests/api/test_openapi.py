"""The OpenAPI document describes every body: each HTTP route (taken from the app's own
route table, so a new route is covered the day it is added) answers a 2xx whose content
is a named schema, or an explicit binary media type."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from dfr.api.app import create_app
from dfr.config import Settings
from dfr.site import load_site

BINARY_TYPES = {"video/mp4", "image/jpeg"}
# a file format of its own: the route's description names its columns
DOCUMENT_TYPES = {"text/csv"}


def _routes(app: Any) -> list[tuple[str, str]]:
    """(path, method) of every HTTP route the app serves in its schema, routers included."""
    return sorted(
        (context.path_format, method.lower())
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.include_in_schema
        for method in context.methods
    )


def _names_a_schema(schema: dict[str, Any]) -> bool:
    """A schema that says what is in the body: a model (``$ref``), or an array of them."""
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _names_a_schema(schema.get("items", {}))
    return any(_names_a_schema(s) for s in schema.get("anyOf", []))


def _documented(operation: dict[str, Any]) -> list[str]:
    """The 2xx answers of an operation whose body is described, as 'status media-type'."""
    found = []
    for status, answer in operation.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        if str(status) == "204":  # no content: nothing to describe
            found.append("204 -")
        for media, content in answer.get("content", {}).items():
            if media in BINARY_TYPES | DOCUMENT_TYPES or _names_a_schema(content.get("schema", {})):
                found.append(f"{status} {media}")
    return found


@pytest.fixture
def app(tmp_path: Any) -> Any:
    from tests.api.conftest import free_udp_port, write_site

    (tmp_path / "site").mkdir()
    site_dir = write_site(tmp_path / "site", [free_udp_port()])
    return create_app(Settings(site=site_dir, data_dir=tmp_path / "data"), load_site(site_dir))


def test_every_route_documents_its_body(app: Any) -> None:
    schema = app.openapi()
    routes = _routes(app)
    assert len(routes) >= 18  # the route table is what we think it is
    undocumented = []
    for path, method in routes:
        operation = schema["paths"].get(path, {}).get(method)
        if operation is None or not _documented(operation):
            undocumented.append(f"{method.upper()} {path}")
    assert undocumented == []


def test_error_answers_are_dfrs_own(app: Any) -> None:
    """dfr answers a body that does not validate with its own 422 (error, detail,
    problems), never FastAPI's default: the document must not promise that one."""
    schema = app.openapi()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    call = schema["paths"]["/api/v1/calls"]["post"]["responses"]
    assert call["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/InvalidInputOut")
    assert call["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


async def test_a_422_body_is_what_the_schema_says(client: httpx.AsyncClient) -> None:
    from dfr.api.schemas import InvalidInputOut

    bad = await client.post("/api/v1/calls", json={"cad_id": ""})
    assert bad.status_code == 422
    InvalidInputOut.model_validate(bad.json())
    refused = await client.post("/api/v1/calls/eido", json={"incidentComponent": {}})
    assert refused.status_code == 422
    InvalidInputOut.model_validate(refused.json())


def test_binary_routes_name_their_media_type(app: Any) -> None:
    paths = app.openapi()["paths"]
    mp4 = paths["/api/v1/flights/{flight_id}/recordings/{recording_id}.mp4"]["get"]
    assert list(mp4["responses"]["200"]["content"]) == ["video/mp4"]
    jpeg = paths["/api/v1/drones/{drone_id}/snapshot.jpg"]["get"]
    assert list(jpeg["responses"]["200"]["content"]) == ["image/jpeg"]


def test_schemas_referenced_are_defined(app: Any) -> None:
    schema = app.openapi()
    defined = set(schema["components"]["schemas"])
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"].rsplit("/", 1)[-1])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema["paths"])
    assert refs and refs <= defined


async def test_served_openapi_is_the_apps(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    for path in ("/api/v1/drones", "/api/v1/flights/{flight_id}", "/api/v1/airspace"):
        ok = served["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert _names_a_schema(ok["schema"])
    assert "ErrorOut" in served["components"]["schemas"]
