"""The service does not depend on its HTTP face: importing dfr.service loads nothing of
dfr.api, and the API loads dfr.service only when it is asked to build one."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return {m for m in out.splitlines() if m.startswith("dfr")}


def test_the_service_does_not_import_the_api() -> None:
    loaded = _modules_after("import dfr.service")
    assert "dfr.service" in loaded
    assert sorted(m for m in loaded if m == "dfr.api" or m.startswith("dfr.api.")) == []


@pytest.mark.parametrize("module", ["dfr.api.app", "dfr.api.auth"])
def test_the_api_needs_only_the_services_type(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    assert module in loaded
    assert "dfr.service" not in loaded


def test_old_auth_imports_still_work() -> None:
    from dfr.api import auth
    from dfr.auth import tokens

    assert auth.TokenRegistry is tokens.TokenRegistry
    assert auth.bearer_from_header("Bearer abc") == "abc"
    assert auth.bearer_from_header("Basic abc") is None
