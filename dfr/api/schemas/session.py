"""A person's sign-in and session (the console's sign-in page uses them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from dfr.api.models import STRICT_INPUT
from dfr.api.schemas.common import BodyOut


class SignInIn(BaseModel):
    model_config = STRICT_INPUT
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    code: Annotated[str, Field(max_length=16)] | None = Field(
        None, description="the authenticator's 6-digit code (pilot, supervisor, admin)"
    )
    notice_acknowledged: bool | None = Field(
        None,
        description="true when the person signs in from a form that showed the system use "
        "notice (GET /api/v1/session/notice); recorded with the sign-in in the audit trail",
    )


class NoticeOut(BodyOut):
    text: str = Field(description="the system use notice, plain text (CJIS 5.5.4)")
    sha256: str = Field(description="SHA-256 of the text: which notice a sign-in acknowledged")


class SessionOut(BodyOut):
    username: str
    role: str = Field(description="viewer | supervisor | pilot | admin")
    started_at: datetime
    locks_at: datetime = Field(description="when the session locks if nobody uses it")
    ends_at: datetime = Field(description="when it ends, used or not")
    idle_lock_s: float = Field(description="how long unused before it locks")
