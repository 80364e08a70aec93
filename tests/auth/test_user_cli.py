"""`dfr user …` makes the first admin and manages people; each change is audited."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest

from dfr.auth.accounts import Accounts, SignInRefused
from dfr.cli import main
from dfr.store import SqliteStore


async def _sign_in(data_dir: Path, username: str, password: str, secret: str) -> None:
    async with SqliteStore(data_dir / "dfr.db") as store:
        code = pyotp.TOTP(secret).now()
        await Accounts(store).sign_in(username, password, code, datetime.now(UTC))


def test_the_first_admin_is_made_shown_once_managed_and_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main(["user", "add", "chief", "--role", "admin", *data]) == 0
    shown = capsys.readouterr().out
    password = re.search(r"password: (\S+)", shown)
    secret = re.search(r"TOTP secret: (\S+)", shown)
    assert password and secret, shown
    asyncio.run(_sign_in(tmp_path, "chief", password[1], secret[1]))
    assert main(["user", "add", "chief", "--role", "pilot", *data]) == 2
    assert "exists already" in capsys.readouterr().out
    assert main(["user", "disable", "chief", *data]) == 0
    assert main(["user", "list", *data]) == 0
    assert re.search(r"chief\s+admin\s+disabled\s+totp", capsys.readouterr().out)
    with pytest.raises(SignInRefused):
        asyncio.run(_sign_in(tmp_path, "chief", password[1], secret[1]))
    assert main(["audit", "verify", *data]) == 0
    assert "2 records chained" in capsys.readouterr().out


def test_with_the_signing_key_kept_elsewhere_user_and_key_changes_still_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DFR_AUDIT_KEY_FILE: `dfr user` and `dfr key` sign with the service's key, and make
    none of their own in the data directory."""
    data_dir, key_file = tmp_path / "data", tmp_path / "keys" / "audit.key"
    monkeypatch.setenv("DFR_AUDIT_KEY_FILE", str(key_file))
    data = ["--data-dir", str(data_dir)]
    assert main(["user", "add", "chief", "--role", "admin", *data]) == 0
    assert main(["key", "add", "cad", "--preset", "intake", *data]) == 0
    assert key_file.exists()
    assert not (data_dir / "audit-signing.key").exists()
    capsys.readouterr()
    assert main(["audit", "verify", *data]) == 0
    assert "2 records chained" in capsys.readouterr().out
