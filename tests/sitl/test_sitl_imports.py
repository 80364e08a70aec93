"""The simulator stands alone: no module in ``sitl/`` imports the service (``dfr``), so it
cannot fly what the service's planner assumes, nor share the relay's video code."""

from __future__ import annotations

import ast
from pathlib import Path

SITL = Path(__file__).resolve().parents[2] / "sitl"


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_no_sitl_module_imports_dfr() -> None:
    modules = sorted(SITL.rglob("*.py"))
    assert len(modules) > 20  # the walk saw the package
    offending = [
        f"{path.relative_to(SITL.parent)}:{line}: {name}"
        for path in modules
        for line, name in _imported_modules(path)
        if name == "dfr" or name.startswith("dfr.")
    ]
    assert offending == []


def test_the_check_would_see_a_dfr_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "def f():\n"
        "    from dfr.video import rtp\n"
        "    import dfr.site as site\n"
        "from . import dfr_like\n"
    )
    assert _imported_modules(sample) == [(1, "os"), (3, "dfr.video"), (4, "dfr.site")]
