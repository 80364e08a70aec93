"""Service settings: environment (prefix ``DFR_``) → ``.env`` → defaults. Built once in
the CLI and passed down; nothing else reads the environment."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dfr.errors import ConfigError

# CJIS Security Policy 5.4.7: audit records are kept for at least one year
AUDIT_RETENTION_MIN_DAYS = 365
# CJIS Security Policy 5.5.4 (system use notification): shown before anyone signs in
DEFAULT_SYSTEM_USE_NOTICE = (
    "Authorized use only. This system and the information in it (live video, incident "
    "locations and records) are for official use by personnel the operating agency has "
    "authorized. All activity on this system is monitored and recorded, and the records may "
    "be reviewed by the agency and its auditors and disclosed to law enforcement. "
    "Unauthorized use or misuse is prohibited and may result in disciplinary action and "
    "civil and criminal prosecution. Signing in means you accept these conditions."
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DFR_", env_file=".env", extra="ignore", frozen=True
    )

    site: Path = Field(Path("flightplans/fort-worth"), description="site directory")
    data_dir: Path = Field(Path("var"), description="database, recordings")
    database_url: SecretStr | None = Field(
        None,
        description="DFR_DATABASE_URL: keep the store in PostgreSQL, e.g. "
        "'postgresql://dfr:PASSWORD@db.example.org:5432/dfr' (several dfr instances may share "
        "it). Unset: the SQLite file DATA_DIR/dfr.db. The audit trail and recordings stay in "
        "DATA_DIR either way",
    )
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    api_token: SecretStr | None = Field(
        None,
        min_length=16,
        description="a pilot token for automation (16+ characters); one is generated and printed if unset",
    )
    viewer_token: SecretStr | None = Field(
        None, min_length=16, description="an optional read-only token (16+ characters)"
    )
    mavlink_port_offset: int = Field(
        0,
        description="added to the port of every drone's MAVLink and video URL "
        "(tests, side-by-side fleets)",
    )
    video: bool = Field(True, description="relay and record the drones' video")
    connect_timeout_s: float = Field(30.0, gt=0)
    position_rate_hz: float = Field(10.0, gt=0, le=50)
    link_worker_drones: int = Field(
        8,
        ge=0,
        le=12,
        description="DFR_LINK_WORKER_DRONES: drones per MAVSDK link worker process (MAVSDK "
        "has 16 MAVLink channels per process); 0 runs every link in the service's own process",
    )

    # -- the event bus (dfr/bus.py, dfr/bus_nats/) ----------------------------------------
    bus_url: str | None = Field(
        None,
        description="DFR_BUS_URL: the NATS server(s) that several service instances share "
        "positions and events through, e.g. 'nats://127.0.0.1:4222' (comma-separated for a "
        "cluster; the server needs JetStream: nats-server -js). Unset: the in-process bus "
        "(one instance)",
    )
    bus_events_max_age_s: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="DFR_BUS_EVENTS_MAX_AGE_S: how long the NATS stream keeps events",
    )
    bus_events_max_bytes: int = Field(
        1 << 30, gt=0, description="DFR_BUS_EVENTS_MAX_BYTES: the NATS events stream's size"
    )

    # -- several instances (dfr/instances/) ----------------------------------------------
    instance_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="DFR_INSTANCE_ID: this instance's name among several sharing one "
        "PostgreSQL store and one NATS bus (in logs, leases and GET /api/v1/drones/{id}); "
        "default: host name and process id",
    )
    lease_poll_s: float = Field(
        1.0,
        gt=0,
        le=10,
        description="DFR_LEASE_POLL_S: how often an instance looks for vehicles without an "
        "owner (a dead instance's), and so how soon it takes them over",
    )
    lease_settle_s: float = Field(
        2.0,
        ge=0,
        le=60,
        description="DFR_LEASE_SETTLE_S: how long a starting instance waits for the others "
        "before taking its share of the vehicles",
    )

    @field_validator("bus_url")
    @classmethod
    def _bus_url_is_nats(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        for one in value.split(","):
            parts = urlsplit(one.strip())
            if parts.scheme not in ("nats", "tls") or not parts.hostname:
                raise ValueError(
                    f"{one.strip()!r} is not a NATS server URL: give nats://HOST:PORT (or "
                    "tls://HOST:PORT), comma-separated for several, or unset DFR_BUS_URL "
                    "for the in-process bus"
                )
        return value

    wind_from_deg: float = Field(
        0.0, ge=0, lt=360, description="current wind, direction it blows from"
    )
    wind_speed_mps: float = Field(0.0, ge=0, le=60)

    audit_key_file: Path | None = Field(
        None,
        description="the audit trail's Ed25519 signing key (made when absent); default "
        "DATA_DIR/audit-signing.key — keep it where readers of the data directory cannot write",
    )

    audit_retention_days: int = Field(
        400,
        description="DFR_AUDIT_RETENTION_DAYS: how long audit records are kept; `dfr audit "
        "prune` removes only records older than this (at least 365: CJIS 5.4.7 keeps audit "
        "records a year or more)",
    )

    system_use_notice: str = Field(
        DEFAULT_SYSTEM_USE_NOTICE,
        min_length=1,
        max_length=4000,
        description="DFR_SYSTEM_USE_NOTICE: the system use notification (CJIS 5.5.4) the "
        "console shows on its sign-in form before anyone signs in; the agency's approved "
        "wording (plain text; blank lines separate paragraphs)",
    )

    session_idle_s: float = Field(
        1800.0,
        gt=0,
        le=1800.0,
        description="DFR_SESSION_IDLE_S: a signed-in session unused this long locks "
        "(CJIS AC-11: at most 30 minutes)",
    )
    session_max_s: float = Field(
        43200.0, gt=0, le=43200.0, description="a session ends this long after sign-in"
    )
    session_check_s: float = Field(
        5.0,
        gt=0,
        le=60.0,
        description="how often an open websocket checks that its session still holds "
        "(a signed-out, locked or disabled session's sockets close within this)",
    )

    map_tile_url: str | None = Field(
        None,
        description="DFR_MAP_TILE_URL: an XYZ tile server for the console's and viewer's map, "
        "http(s) with {z}, {x} and {y} (and optionally {s}, {r}), e.g. "
        "'https://tiles.example.org/{z}/{x}/{y}.png'; browsers fetch the tiles straight "
        "from it. Unset: the map is drawn on a plain background and works offline",
    )
    map_tile_attribution: str = Field(
        "",
        description="DFR_MAP_TILE_ATTRIBUTION: the credit the tile server's terms ask for, "
        "shown in the map's corner (HTML, e.g. '&copy; <a href=\"…\">OpenStreetMap</a> "
        "contributors')",
    )

    body_limit_bytes: int = Field(
        1024 * 1024,
        gt=0,
        description="DFR_BODY_LIMIT_BYTES: the largest request body taken (413 above it)",
    )
    eido_body_limit_bytes: int = Field(
        4 * 1024 * 1024,
        gt=0,
        description="DFR_EIDO_BODY_LIMIT_BYTES: the largest EIDO document POST /calls/eido "
        "takes (EIDO carries notes, persons and vehicles; it may be larger than our JSON)",
    )
    intake_rate_per_min: float = Field(
        600.0, gt=0, description="calls (POST /calls, /calls/eido) one address may post a minute"
    )
    intake_burst: int = Field(120, ge=1, description="calls one address may post at once")
    signin_rate_per_min: float = Field(
        30.0, gt=0, description="sign-in attempts (POST /api/v1/session…) per address a minute"
    )
    signin_burst: int = Field(10, ge=1, description="sign-in attempts one address may make at once")

    tls_cert_file: Path | None = Field(
        None,
        description="DFR_TLS_CERT_FILE: serve HTTPS with this PEM certificate (chain); needs "
        "DFR_TLS_KEY_FILE. Unset: plain HTTP (behind a reverse proxy that terminates TLS)",
    )
    tls_key_file: Path | None = Field(
        None, description="DFR_TLS_KEY_FILE: the certificate's PEM private key"
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="DFR_FORWARDED_ALLOW_IPS: addresses of reverse proxies whose "
        "X-Forwarded-For/-Proto uvicorn trusts (comma-separated, or '*')",
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            given = "tls_cert_file" if self.tls_cert_file is not None else "tls_key_file"
            raise ValueError(
                f"{given} is set without its pair: TLS needs both a certificate "
                "(DFR_TLS_CERT_FILE, --tls-cert) and its key (DFR_TLS_KEY_FILE, --tls-key)"
            )
        return self

    @field_validator("audit_retention_days")
    @classmethod
    def _retention_keeps_a_year(cls, value: int) -> int:
        if value < AUDIT_RETENTION_MIN_DAYS:
            raise ValueError(
                f"DFR_AUDIT_RETENTION_DAYS (audit_retention_days) is {value} days: it must be "
                f"at least {AUDIT_RETENTION_MIN_DAYS}, because the CJIS Security Policy (5.4.7, "
                "audit record retention) requires audit records to be kept for at least one year"
            )
        return value

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None

    @field_validator("map_tile_url")
    @classmethod
    def _tile_url_is_xyz(cls, value: str | None) -> str | None:
        """Fail at start-up, not as a blank map in every browser."""
        if value is None or value == "":
            return None
        if not re.match(r"https?://[^/\s]+/", value):
            raise ValueError("must be an http:// or https:// URL with a host and a path")
        missing = [part for part in ("{z}", "{x}", "{y}") if part not in value]
        if missing:
            raise ValueError(f"must contain {{z}}, {{x}} and {{y}}; missing {', '.join(missing)}")
        return value

    @field_validator("database_url")
    @classmethod
    def _blank_url_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        """``DFR_DATABASE_URL=`` (set but empty) means SQLite, as unset does."""
        return None if value is None or not value.get_secret_value().strip() else value

    @property
    def db_path(self) -> Path:
        """The SQLite store's file (when ``database_url`` is unset)."""
        return self.data_dir / "dfr.db"


def command_settings(**overrides: object) -> Settings:
    """The settings of a one-shot command (``dfr user``, ``dfr key``): the environment and
    ``.env`` as the service reads them, then ``overrides``; a bad one is a ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"bad setting: {exc}") from exc
