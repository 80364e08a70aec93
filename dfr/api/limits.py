"""Rate limits per client address: a token bucket per (rule, address), for the routes a
flood would hurt — call intake (a misbehaving CAD connector) and sign-in (password
guessing). Over its rate a caller gets 429, a ``Retry-After`` and an :class:`ErrorOut`.

The client address is the connection's (``scope["client"]``); behind a reverse proxy
uvicorn puts the forwarded one there when the proxy is trusted (``forwarded_allow_ips``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from dfr.api.asgi_json import send_json
from dfr.api.schemas import ErrorOut

# buckets kept per rule; past this, full ones (callers idle long enough) are dropped
MAX_BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class Rate:
    per_min: float
    burst: int

    @property
    def per_s(self) -> float:
        return self.per_min / 60.0


@dataclass(slots=True)
class TokenBucket:
    """``burst`` tokens, refilled at ``rate.per_s``; a request takes one."""

    rate: Rate
    tokens: float
    updated_s: float

    def take(self, now_s: float) -> float:
        """0.0 if a token was taken; else the seconds until one is there."""
        self.tokens = min(
            float(self.rate.burst), self.tokens + (now_s - self.updated_s) * self.rate.per_s
        )
        self.updated_s = now_s
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        if self.rate.per_s <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate.per_s

    def full(self, now_s: float) -> bool:
        return self.tokens + (now_s - self.updated_s) * self.rate.per_s >= self.rate.burst


@dataclass(slots=True)
class RateLimiter:
    """One :class:`TokenBucket` per client address."""

    rate: Rate
    clock_s: Callable[[], float] = time.monotonic
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def wait_s(self, client: str) -> float:
        """0.0 if ``client`` may go on now; else how long it has to wait."""
        now_s = self.clock_s()
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) >= MAX_BUCKETS:
                self._forget_idle(now_s)
            bucket = self.buckets[client] = TokenBucket(self.rate, float(self.rate.burst), now_s)
        return bucket.take(now_s)

    def _forget_idle(self, now_s: float) -> None:
        for client in [c for c, b in self.buckets.items() if b.full(now_s)]:
            del self.buckets[client]


@dataclass(frozen=True, slots=True)
class RateRule:
    """Requests with ``method`` to one of ``paths`` (exact) or under one of ``prefixes``."""

    name: str  # what the 429 says is limited: "call intake", "sign-in"
    method: str
    paths: frozenset[str]
    prefixes: tuple[str, ...]
    limiter: RateLimiter

    def matches(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        path = path.rstrip("/") or "/"
        return path in self.paths or any(
            path == prefix or path.startswith(prefix + "/") for prefix in self.prefixes
        )


def rule(
    name: str,
    rate: Rate,
    *,
    paths: Sequence[str] = (),
    prefixes: Sequence[str] = (),
    method: str = "POST",
    clock_s: Callable[[], float] = time.monotonic,
) -> RateRule:
    return RateRule(name, method, frozenset(paths), tuple(prefixes), RateLimiter(rate, clock_s))


class RateLimit:
    """A pure ASGI middleware: the first of ``rules`` a request matches decides (before
    its body is read)."""

    def __init__(self, app: ASGIApp, *, rules: Sequence[RateRule]) -> None:
        self.app = app
        self.rules = tuple(rules)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for each in self.rules:
                if each.matches(scope["method"], scope["path"]):
                    client = scope.get("client")
                    address = client[0] if client else "unknown"
                    wait_s = each.limiter.wait_s(address)
                    if wait_s > 0:
                        await _too_many(send, each, wait_s)
                        return
                    break
        await self.app(scope, receive, send)


async def _too_many(send: Send, limited: RateRule, wait_s: float) -> None:
    retry_after_s = max(1, math.ceil(wait_s)) if math.isfinite(wait_s) else 3600
    rate = limited.limiter.rate
    body = ErrorOut(
        error="TooManyRequests",
        detail=f"{limited.name} from this address is limited to {rate.per_min:g} a minute "
        f"(bursts of {rate.burst}): try again in {retry_after_s} s",
    )
    await send_json(
        send, 429, body.model_dump(), headers=[(b"retry-after", str(retry_after_s).encode())]
    )
