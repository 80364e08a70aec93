"""`dfr key …` makes, lists and revokes API keys; the key is shown once; each change is
audited and the trail verifies."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dfr.audit.trail import TRAIL_FILE
from dfr.auth.api_keys import ApiKeys
from dfr.auth.tokens import Principal, Role, Scope
from dfr.cli import main
from dfr.errors import AccessDenied
from dfr.store import SqliteStore


async def _principal(data_dir: Path, text: str) -> Principal:
    async with SqliteStore(data_dir / "dfr.db") as store:
        return await ApiKeys(store).principal(text, datetime.now(UTC))


def test_keys_are_made_shown_once_listed_revoked_and_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert (
        main(["key", "add", "cad", "--preset", "intake", "--days", "30", "--by", "chief", *data])
        == 0
    )
    shown = capsys.readouterr().out
    found = re.search(r"key: (dfr_([0-9a-f]{12})_\S+)", shown)
    assert found and "cannot be shown again" in shown, shown
    text, key_id = found[1], found[2]
    principal = asyncio.run(_principal(tmp_path, text))
    assert (principal.name, principal.role) == ("key:cad", Role.VIEWER)
    assert principal.scopes == frozenset({Scope.INTAKE})

    assert main(["key", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert re.search(rf"{key_id}\s+cad\s+intake\s+\S+ \S+\s+\S+ \S+\s+-\s+\S+ \S+", listed), listed
    assert text.split("_", 2)[2] not in listed  # never the secret

    assert main(["key", "add", "a b", "--preset", "monitor", *data]) == 2
    assert "2-64 letters" in capsys.readouterr().err
    assert main(["key", "revoke", key_id, "--by", "chief", *data]) == 0
    assert f"API key {key_id} (cad): revoked" in capsys.readouterr().out
    assert main(["key", "revoke", key_id, *data]) == 2
    assert "revoked already" in capsys.readouterr().err
    with pytest.raises(AccessDenied, match="API key revoked"):
        asyncio.run(_principal(tmp_path, text))

    assert main(["audit", "verify", *data]) == 0
    assert "2 records chained" in capsys.readouterr().out
    conn = sqlite3.connect(tmp_path / TRAIL_FILE)
    rows = conn.execute("SELECT actor, source, action, target, detail FROM audit ORDER BY seq")
    records = list(rows)
    conn.close()
    assert [r[:4] for r in records] == [
        ("chief", "cli", "key_created", f"key:{key_id}"),
        ("chief", "cli", "key_revoked", f"key:{key_id}"),
    ]
    assert '"preset": "intake"' in records[0][4] and '"expires": ' in records[0][4]
    assert text.split("_", 2)[2] not in "".join(r[4] for r in records)


def test_days_out_of_range_are_refused_by_the_parser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(
            [
                "key",
                "add",
                "cad",
                "--preset",
                "intake",
                "--days",
                "400",
                "--data-dir",
                str(tmp_path),
            ]
        )
    assert "1 to 365 days" in capsys.readouterr().err
