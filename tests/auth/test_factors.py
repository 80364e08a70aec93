"""Passwords (argon2id) and TOTP codes (once each, either side of now)."""

from __future__ import annotations

import pyotp

from dfr.auth.passwords import hash_password, needs_rehash, password_matches, password_problem
from dfr.auth.totp import STEP_S, accepted_step, new_secret, provisioning_uri


def test_passwords_are_argon2id_and_checked() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert password_matches(stored, "correct horse battery")
    assert not password_matches(stored, "correct horse batterY")
    assert not password_matches("not a hash", "correct horse battery")
    assert not needs_rehash(stored)


def test_weak_passwords_are_refused_with_the_reason() -> None:
    assert password_problem("short", "alice") == "a password needs at least 12 characters"
    assert password_problem("alice-is-the-pilot", "alice") == (
        "a password may not contain the user name"
    )
    assert password_problem("aaaaaaaaaaaaab", "bob") == (
        "a password needs at least 5 different characters"
    )
    assert password_problem("plenty-of-different", "bob") is None


def test_a_totp_code_is_taken_once_and_only_near_its_time() -> None:
    secret = new_secret()
    now_s = 1_800_000_000.0
    code = pyotp.TOTP(secret).at(now_s)
    step = accepted_step(secret, code, None, now_s)
    assert step == int(now_s // STEP_S)
    assert accepted_step(secret, code, step, now_s) is None  # replayed
    late = now_s + STEP_S  # one step of clock drift is allowed
    assert accepted_step(secret, code, None, late) == step
    assert accepted_step(secret, code, None, now_s + 3 * STEP_S) is None
    assert accepted_step(secret, "12345", None, now_s) is None
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert accepted_step(secret, wrong, None, now_s) is None


def test_the_enrolment_uri_names_the_issuer_and_user() -> None:
    uri = provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEH", "alice")
    assert uri.startswith("otpauth://totp/dfr:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEH")
    assert "issuer=dfr" in uri
