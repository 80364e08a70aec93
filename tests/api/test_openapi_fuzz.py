"""The API against its own OpenAPI document, fuzzed by schemathesis: with a pilot's
token no operation answers 5xx, and every answer conforms to the document (a status it
lists, its content type, its body schema); without a credential every operation but
sign-in answers 401.

The service is a real one (two drones whose links nobody answers, so a launch or a
command is refused and nothing flies) served by uvicorn on a free port, in a thread of
its own: schemathesis calls it synchronously over HTTP. The document fuzzed is the
app's, the one ``/openapi.json`` serves to a signed-in caller. Examples are bounded and
derandomized so a run is repeatable and short; the rate limits are set beyond reach.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import PILOT
from tests.api.route_access import access_app
from tests.e2e.harness import free_tcp_port

pytestmark = pytest.mark.timeout(120)

EXAMPLES_SIGNED_IN = 20
EXAMPLES_ANONYMOUS = 5
SERVER_START_TIMEOUT_S = 30.0
NOTICE = ("GET", "/api/v1/session/notice")
SIGN_IN = ("POST", "/api/v1/session")  # open to anyone, with the notice below
CONFORMS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service, in its lifespan, served by uvicorn from a thread: its base URL."""
    port = free_tcp_port()
    server = uvicorn.Server(
        uvicorn.Config(
            access_app(tmp_path_factory.mktemp("fuzz")),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, name="test: uvicorn (fuzz)", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SERVER_START_TIMEOUT_S)
        assert not thread.is_alive(), "uvicorn did not stop"


def _document() -> dict[str, Any]:
    """The app's OpenAPI document (the app is built, not started: the document is code)."""
    with tempfile.TemporaryDirectory() as directory:
        document: dict[str, Any] = access_app(Path(directory)).openapi()
        return document


DOCUMENT = _document()


def _schema(examples: int) -> Any:
    # schemathesis.pytest.from_fixture (a schema fetched from the running service) reads
    # pytest's Function._nodeid, which pytest 9 no longer has; the document is the app's
    # own, and test_the_served_document_is_the_one_fuzzed shows it is what is served
    loaded = schemathesis.openapi.from_dict(DOCUMENT)
    loaded.config.generation.update(max_examples=examples, deterministic=True, database="none")
    return loaded


signed_in = _schema(EXAMPLES_SIGNED_IN)
anonymous = _schema(EXAMPLES_ANONYMOUS)
PILOT_HEADERS = {"Authorization": f"Bearer {PILOT}"}


def test_the_served_document_is_the_one_fuzzed(base_url: str) -> None:
    served = requests.get(f"{base_url}/openapi.json", headers=PILOT_HEADERS, timeout=10)
    assert served.status_code == 200 and served.json() == DOCUMENT
    assert requests.get(f"{base_url}/openapi.json", timeout=10).status_code == 401


@signed_in.parametrize()
def test_a_pilot_gets_no_server_error_and_answers_that_conform(base_url: str, case: Any) -> None:
    case.call_and_validate(base_url=base_url, headers=PILOT_HEADERS, checks=CONFORMS)


@anonymous.parametrize()
def test_without_a_credential_every_operation_but_sign_in_is_refused(
    base_url: str, case: Any
) -> None:
    if case.method.upper() != case.operation.method.upper():
        return  # schemathesis trying a method the route does not have: 405 names no data
    response = case.call(base_url=base_url)
    if (case.method.upper(), case.path) == SIGN_IN:
        assert response.status_code != 401 or "not accepted" in response.text, response.text
        return
    if (case.method.upper(), case.path) == NOTICE:
        assert response.status_code == 200, response.text  # shown before anyone signs in
        return
    # the caller is known before the body is read (CallerFirst): not even a body that
    # does not parse is answered before the 401
    assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.text}"
