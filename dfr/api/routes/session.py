"""People sign in and out: ``POST /api/v1/session`` with a user name, password and (for
pilot, supervisor and admin) an authenticator code sets the ``dfr_session`` cookie;
``GET`` says whose session it is and when it locks; ``DELETE`` signs out. Each sign-in,
refusal, lockout and sign-out goes into the audit trail with the caller's address.

``GET /api/v1/session/notice`` is the system use notice (CJIS 5.5.4) the sign-in form
shows before anyone signs in; it is public, like signing in. A sign-in from that form says
``notice_acknowledged``, and the trail records it with the notice's SHA-256."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from dfr.api.access import SESSION_COOKIE, authenticate, service_of, session_token_of
from dfr.api.request_audit import audit_request
from dfr.api.schemas.common import ErrorOut
from dfr.api.schemas.session import NoticeOut, SessionOut, SignInIn
from dfr.auth.accounts import AccountState, Session, SignInRefused
from dfr.errors import AccessDenied

router = APIRouter(prefix="/api/v1", tags=["session"])

REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "not accepted, or not signed in"}
}


def _out(request: Request, session: Session) -> SessionOut:
    accounts = service_of(request).accounts
    return SessionOut(
        username=session.username,
        role=session.role.label,
        started_at=session.started_at,
        locks_at=session.last_seen_at + accounts.idle,
        ends_at=session.started_at + accounts.most,
        idle_lock_s=accounts.idle.total_seconds(),
    )


def _notice(request: Request) -> NoticeOut:
    text = service_of(request).settings.system_use_notice
    return NoticeOut(text=text, sha256=hashlib.sha256(text.encode()).hexdigest())


@router.get("/session/notice")
async def system_use_notice(request: Request) -> NoticeOut:
    """The system use notice to show before sign-in (public: no credential needed)."""
    return _notice(request)


@router.post("/session", responses=REFUSED)
async def sign_in(body: SignInIn, request: Request, response: Response) -> SessionOut:
    """Sign in: the session is the ``dfr_session`` cookie (HttpOnly, SameSite=Strict)."""
    service = service_of(request)
    now = datetime.now(UTC)
    notice: dict[str, object] = {"notice_acknowledged": body.notice_acknowledged is True}
    if body.notice_acknowledged:
        notice["notice_sha256"] = _notice(request).sha256
    try:
        token, session = await service.accounts.sign_in(
            body.username, body.password, body.code, now
        )
    except SignInRefused as exc:
        audit_request(
            request,
            actor=body.username,
            action="sign_in",
            outcome="refused",
            target=f"user:{body.username}",
            detail={"reason": exc.audit_reason, **notice},
        )
        account = await service.store.account(body.username.strip())
        if (
            account is not None
            and account.state is AccountState.LOCKED
            and exc.audit_reason != "account locked"
        ):
            audit_request(
                request,
                actor="service",
                action="account_locked",
                outcome="locked",
                target=f"user:{account.username}",
                detail={"reason": "5 failed sign-ins in 15 minutes"},
            )
        raise
    audit_request(
        request,
        actor=session.username,
        action="sign_in",
        outcome="ok",
        target=f"user:{session.username}",
        detail=notice,
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(service.accounts.most.total_seconds()),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return _out(request, session)


@router.get("/session", responses=REFUSED)
async def current_session(request: Request) -> SessionOut:
    """The signed-in person's session (machines with a token have none)."""
    token = session_token_of(request)
    if token is None:
        raise AccessDenied("not signed in: POST /api/v1/session first", authenticated=False)
    use = request.headers.get("x-dfr-background") != "1"
    _, session = await service_of(request).accounts.principal(token, datetime.now(UTC), use=use)
    return _out(request, session)


@router.delete("/session", status_code=204, responses=REFUSED)
async def sign_out(request: Request, response: Response) -> None:
    """Sign out: the session ends at once, and its open websockets close."""
    token = session_token_of(request)
    if token is None:
        raise AccessDenied("not signed in: there is no session to end", authenticated=False)
    who = await authenticate(request, query_token=False)  # from our own origin, not ended
    await service_of(request).accounts.sign_out(token, datetime.now(UTC))
    audit_request(
        request, actor=who.name, action="sign_out", outcome="ok", target=f"user:{who.name}"
    )
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
