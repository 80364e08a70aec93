"""The service's own runs in the audit trail: each start names the site's files and
policy, a clean stop is recorded, and a start after the site was edited says what
changed (a policy change is in the trail though no API made it). A start after a run
that was killed says so: tests/e2e/test_crash_evidence.py."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from dfr.api.app import create_app
from dfr.audit.checkpoints import PUBLIC_KEY_FILE, load_public_key
from dfr.audit.trail import TRAIL_FILE, AuditRecord, open_trail_db, read_records
from dfr.audit.verify import verify
from dfr.config import Settings
from dfr.site import load_site
from tests.api.conftest import PILOT, free_udp_port, serving, write_site


async def _start_and_stop(site_dir: Path, data_dir: Path) -> None:
    settings = Settings(site=site_dir, data_dir=data_dir, api_token=SecretStr(PILOT))
    async with serving(create_app(settings, load_site(site_dir))) as served:
        assert (await served.client.get("/api/v1/drones")).status_code == 200


def _trail(data_dir: Path) -> list[AuditRecord]:
    connection = open_trail_db(data_dir / TRAIL_FILE)
    try:
        return list(read_records(connection))
    finally:
        connection.close()


async def test_each_start_names_the_site_and_a_changed_policy_says_what_changed(
    tmp_path: Path,
) -> None:
    site_dir, data_dir = tmp_path / "site", tmp_path / "data"
    site_dir.mkdir()
    write_site(site_dir, [free_udp_port()])
    await _start_and_stop(site_dir, data_dir)
    await _start_and_stop(site_dir, data_dir)  # nothing changed
    text = (site_dir / "site.yaml").read_text()
    (site_dir / "site.yaml").write_text(text + "policy: {auto_launch_max_priority: 0}\n")
    await _start_and_stop(site_dir, data_dir)

    runs = [r for r in _trail(data_dir) if r.actor == "service"]
    assert [r.action for r in runs] == [
        "service_started",
        "service_stopped",
        "service_started",
        "service_stopped",
        "site_changed",
        "service_started",
        "service_stopped",
    ]
    first, second, changed, third = runs[0], runs[2], runs[4], runs[5]
    assert first.detail["previous_run_stopped_cleanly"] is None
    assert second.detail["previous_run_stopped_cleanly"] is True
    assert first.detail["site_sha256"] == second.detail["site_sha256"]
    assert set(first.detail["files"]) == {"site.yaml"}
    assert first.detail["policy"]["auto_launch_max_priority"] == 2
    assert changed.detail["policy"] == {"auto_launch_max_priority": [2, 0]}
    assert list(changed.detail["files"]) == ["site.yaml"]
    assert changed.detail["site_sha256"] == [
        second.detail["site_sha256"],
        third.detail["site_sha256"],
    ]
    assert third.detail["drones"] == ["d0"]
    verdict = verify(data_dir, load_public_key(data_dir / PUBLIC_KEY_FILE))
    assert verdict.ok, verdict
