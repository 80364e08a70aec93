"""Front-end libraries the console loads from this service, never from a CDN: each
allowed npm package is served at ``/vendor/<package>/<path>`` from
``node_modules/<package>/<path>`` (``scripts/setup`` runs ``npm ci``).

Only the packages on :data:`VENDOR_PACKAGES` are reachable; the rest of ``node_modules``
(their dependencies, npm's own files) is not served.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

logger = logging.getLogger(__name__)

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR_PACKAGES = ("leaflet", "swagger-ui-dist")


def mount_vendor(app: FastAPI, node_modules: Path = NODE_MODULES) -> None:
    """Mounts one static directory per allowed package; call it before the ``/`` mount,
    which would otherwise answer for ``/vendor``. A package that is not installed is
    not mounted (its files answer 404) and is named in the log once, here."""
    for package in VENDOR_PACKAGES:
        directory = node_modules / package
        if not directory.is_dir():
            logger.warning(
                "%s is missing: /vendor/%s answers 404 (run scripts/setup, which runs npm ci)",
                directory,
                package,
            )
            continue
        app.mount(f"/vendor/{package}", StaticFiles(directory=directory), name=f"vendor-{package}")
