"""Tokens and roles, as the API has always imported them: they live in
:mod:`dfr.auth.tokens` (and how a request carries its token in :mod:`dfr.api.access`)."""

from __future__ import annotations

from dfr.api.access import bearer_from_header
from dfr.auth.tokens import Principal, Role, TokenRegistry, require_role

__all__ = ["Principal", "Role", "TokenRegistry", "bearer_from_header", "require_role"]
