"""Shared set-up for the SITL tests (pymavlink protocol tests, and acceptance tests
through the real mavsdk 4.x and a QGC-style GCS)."""

from __future__ import annotations

import logging

logging.getLogger("mavsdk").setLevel(logging.WARNING)
