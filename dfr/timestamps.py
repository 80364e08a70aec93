"""Times as dfr writes them for people and JSON: ISO 8601 in UTC with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
