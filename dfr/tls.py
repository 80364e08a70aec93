"""The service's own TLS: the certificate and key files the settings name, checked before
uvicorn starts so that a wrong path or a mismatched pair is a clear error, not a server
that never answers."""

from __future__ import annotations

import ssl
from pathlib import Path

from dfr.config import Settings
from dfr.errors import ConfigError


def check_tls_files(settings: Settings) -> tuple[Path, Path] | None:
    """(certificate, key) to serve HTTPS with, or None for plain HTTP; `ConfigError` naming
    the file when one is unreadable or the two do not make a pair."""
    cert, key = settings.tls_cert_file, settings.tls_key_file
    if cert is None or key is None:
        return None
    for what, path in (("certificate (--tls-cert)", cert), ("key (--tls-key)", key)):
        try:
            path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"TLS {what} {path} cannot be read: {exc.strerror or exc}") from exc
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise ConfigError(
            f"TLS certificate {cert} and key {key} do not load as a PEM pair: {exc}"
        ) from exc
    return cert, key
