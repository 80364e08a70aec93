"""The service's own runs in the audit trail: each start names the site it flies (every
file of the site directory by SHA-256, and the policy), each clean stop is recorded, and
a start says when the site or its policy changed since the last one, and whether that
run ended without a clean stop (a crash, a SIGKILL, a power cut).

The site is a directory of files an administrator edits, not something changed over
the API; so a changed policy (auto-launch priority, link lifetimes, altitudes) shows in
the trail at the first start that flies it, with what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from dfr.audit.trail import AuditRecord, AuditTrail
from dfr.site import Site

STARTED = "service_started"
STOPPED = "service_stopped"
SITE_CHANGED = "site_changed"


def site_files(directory: Path) -> dict[str, str]:
    """Every file directly in the site directory, by name: its SHA-256 (hex)."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
        if path.is_file()
    }


def site_digest(files: Mapping[str, str]) -> str:
    """One SHA-256 over the site's file names and hashes."""
    return hashlib.sha256(json.dumps(dict(files), sort_keys=True).encode()).hexdigest()


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each key whose value differs: [before, after] (None where absent)."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _last_run(trail: AuditTrail) -> tuple[AuditRecord | None, bool]:
    """The last start recorded, and whether a clean stop followed it."""
    started = trail.last_of(STARTED)
    if started is None:
        return None, True
    stopped = trail.last_of(STOPPED)
    return started, stopped is not None and stopped.seq > started.seq


def installed_version() -> str:
    try:
        return metadata.version("dfr")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def record_start(trail: AuditTrail, site: Site) -> AuditRecord:
    """``service_started`` (and ``site_changed`` before it, when the site differs from
    the last start's)."""
    version = installed_version()
    files = site_files(site.directory)
    policy = site.policy.model_dump(mode="json")
    digest = site_digest(files)
    last, stopped_cleanly = _last_run(trail)
    if last is not None and last.detail.get("site_sha256") != digest:
        trail.append(
            actor="service",
            action=SITE_CHANGED,
            outcome="ok",
            target=f"site:{site.name}",
            detail={
                "site_sha256": [last.detail.get("site_sha256"), digest],
                "files": _changes(last.detail.get("files", {}), files),
                "policy": _changes(last.detail.get("policy", {}), policy),
            },
        )
    return trail.append(
        actor="service",
        action=STARTED,
        outcome="ok",
        target=f"site:{site.name}",
        detail={
            "version": version,
            "site_sha256": digest,
            "files": files,
            "policy": policy,
            "drones": [drone.id for drone in site.drones],
            # None on the first start; False: the last run crashed or was killed
            "previous_run_stopped_cleanly": None if last is None else stopped_cleanly,
        },
    )


def record_stop(trail: AuditTrail, site: Site) -> AuditRecord:
    return trail.append(actor="service", action=STOPPED, outcome="ok", target=f"site:{site.name}")
