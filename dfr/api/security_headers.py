"""Security headers on every HTTP answer, pages and API alike: a content security policy
that lets a page run only this service's own scripts and styles, and the headers that
keep browsers from sniffing, framing, leaking the URL (which may carry a token) or
caching API answers.

A pure ASGI middleware (no body buffering, websockets pass untouched): it adds the
headers to ``http.response.start``, so an error, a static file and a route's answer all
carry them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Chromium (since 2021) and Firefox match ws:/wss: of the page's own host with 'self'
# (CSP Level 3, "self" matching ws/wss): the console's websockets need nothing more.
BASE_POLICY: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data: blob:"),
    ("connect-src", "'self'"),
    ("media-src", "'self' blob:"),  # the viewer's video: MSE object URLs
    ("frame-ancestors", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
    ("object-src", "'none'"),
)
HSTS = "max-age=31536000"
API_PREFIX = "/api/"
_ORIGIN = re.compile(r"(https?)://([^/\s?#]+)")


def tile_origin(tile_url: str) -> str:
    """The CSP source of an XYZ tile URL template: its scheme and host, a ``{s}`` (or any
    other placeholder) in the host becoming a ``*.`` wildcard, e.g.
    ``https://{s}.tile.example.org/{z}/{x}/{y}.png`` → ``https://*.tile.example.org``."""
    match = _ORIGIN.match(tile_url)
    if match is None:
        raise ValueError(f"not an http(s) URL: {tile_url!r}")
    scheme, host = match.groups()
    if "{" in host:
        labels = host.split(".")
        fixed = [label for label in labels if "{" not in label]
        templated = [i for i, label in enumerate(labels) if "{" in label]
        # a placeholder only in leading labels can be a wildcard; elsewhere, the scheme
        if templated == list(range(len(templated))) and fixed:
            host = "*." + ".".join(fixed)
        else:
            return f"{scheme}:"
    return f"{scheme}://{host}"


def content_security_policy(img_origins: Iterable[str] = ()) -> str:
    """The policy every answer carries; ``img_origins`` (a tile server's) may serve images."""
    extra = " ".join(img_origins)
    parts = []
    for directive, sources in BASE_POLICY:
        if directive == "img-src" and extra:
            sources = f"{sources} {extra}"
        parts.append(f"{directive} {sources}")
    return "; ".join(parts)


def common_headers(csp: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]


class SecurityHeaders:
    """Adds :func:`common_headers` to every HTTP answer, ``Cache-Control: no-store`` to
    every ``/api/`` one, and ``Strict-Transport-Security`` to those served over TLS
    (``https`` in the scope: uvicorn's own TLS, or a trusted proxy's forwarded scheme)."""

    def __init__(self, app: ASGIApp, *, tile_url: str | None = None) -> None:
        self.app = app
        origins = [tile_origin(tile_url)] if tile_url else []
        self.headers = common_headers(content_security_policy(origins))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(self.headers)
        if scope["path"].startswith(API_PREFIX):
            extra.append((b"cache-control", b"no-store"))
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))
        replaced = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in replaced
                ]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
