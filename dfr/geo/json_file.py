"""Reading one of a site's JSON files (GeoJSON, QGroundControl ``.plan``).

A missing file or one that is not JSON is a :class:`ConfigError` naming the file;
what the JSON holds is for the caller's parser to check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dfr.errors import ConfigError


def read_json_file(path: Path) -> Any:
    """The parsed JSON of ``path``, or ConfigError saying it is missing or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: missing") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
