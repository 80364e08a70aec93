"""TOTP second factor (RFC 6238: 30 s steps, 6 digits, SHA-1 — what authenticator apps
speak), via pyotp. A code is accepted once: the step it was accepted in is kept, and a
code from that step or an earlier one is refused (no replay within its window)."""

from __future__ import annotations

import time

import pyotp

STEP_S = 30
ISSUER = "dfr"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` URI an authenticator app enrols from (as a QR code or typed)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def accepted_step(
    secret: str, code: str, last_step: int | None, now_s: float | None = None
) -> int | None:
    """The time step ``code`` belongs to (this one or the one either side, for clock
    drift) if it is right and newer than ``last_step``; else None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now_s is None else now_s
    current = int(now // STEP_S)
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.at(step * STEP_S), code):
            return step
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m dfr.auth.totp SECRET``: the code for now (a stand-in for an
    authenticator app in a demo or a test rig; people use their app)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m dfr.auth.totp BASE32_SECRET", file=sys.stderr)
        return 2
    print(pyotp.TOTP(args[0].strip()).now())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
