"""``DFR_DATABASE_URL``: a PostgreSQL URL checked before anything connects, and the form
of it that may be shown to people and written to logs (the password as ``***``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from dfr.errors import ConfigError

SCHEMES = ("postgresql", "postgres")
EXAMPLE = "postgresql://dfr:PASSWORD@db.example.org:5432/dfr"
CONNECT_TIMEOUT_S = 10  # libpq waits for ever by default; an unreachable host must fail


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    conninfo: str = field(repr=False)  # for libpq only: it holds the password
    shown: str  # for messages and logs
    password: str | None = field(default=None, repr=False)
    given: frozenset[str] = frozenset()  # the connection parameters the URL sets

    def scrubbed(self, text: str) -> str:
        """``text`` (e.g. a driver's message) with the password, if any, as ``***``."""
        return text.replace(self.password, "***") if self.password else text


def parse_database_url(text: str) -> DatabaseUrl:
    """The URL, checked; a ConfigError names what to fix (never the password)."""
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme not in SCHEMES or not text.startswith(f"{parts.scheme}://"):
        raise ConfigError(
            "DFR_DATABASE_URL must be a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT"
            f"/DATABASE, e.g. {EXAMPLE}); unset it to keep the SQLite file in DFR_DATA_DIR"
        )
    shown = _shown(text)
    try:
        _ = parts.port  # a port that is not a number raises ValueError
        params = conninfo_to_dict(text)
    except (ValueError, psycopg.Error) as exc:
        secret = _password(text)
        message = " ".join(str(exc).split())
        if secret:
            message = message.replace(secret, "***")
        # not chained: the driver's exception may quote the URL, password and all
        raise ConfigError(f"DFR_DATABASE_URL {shown} cannot be read: {message}") from None
    if not params.get("dbname"):
        raise ConfigError(
            f"DFR_DATABASE_URL {shown} names no database: add it as the path, e.g. {EXAMPLE}"
        )
    password = params.get("password")
    return DatabaseUrl(text, shown, str(password) if password else None, frozenset(params))


def _password(text: str) -> str | None:
    try:
        password = urlsplit(text).password
    except ValueError:
        return None
    return password or None


def _shown(text: str) -> str:
    """The URL with the password in the authority and in ``?password=`` as ``***``."""
    parts = urlsplit(text)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{hostport}"
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
