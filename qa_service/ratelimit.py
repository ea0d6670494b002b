"""Rate limiting per client address on the API (/v1/*), with the `limits` package
(the engine under slowapi) in a pure-ASGI middleware: probes (/healthz, /readyz),
/metrics, the page and the docs are never limited."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from qa_service.errors import error

LIMITED_PREFIXES = ("/v1/",)


class RateLimitMiddleware:
    """`limit` as in settings.rate_limit: "120/minute", or several: "10/second;500/hour".

    The client is the connection's address (uvicorn replaces it with the
    X-Forwarded-For address only for proxies in --forwarded-allow-ips). Counts
    live in this process's memory: with several workers, each counts alone.
    """

    def __init__(self, app: ASGIApp, limit: str, prefixes: tuple[str, ...] = LIMITED_PREFIXES) -> None:
        self.app = app
        self.items: list[RateLimitItem] = parse_many(limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.prefixes = prefixes
        self.description = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown",))[0] or "unknown"
        for item in self.items:
            if not self.limiter.hit(item, client):
                reset_at = self.limiter.get_window_stats(item, client)[0]  # (reset_time, remaining)
                retry_after = max(1, math.ceil(reset_at - time.time()))
                response = error(
                    429, "rate_limited",
                    f"more than {item.amount} requests per {item.multiples} {item.GRANULARITY.name} "
                    f"from {client}; retry in {retry_after} s",
                    {"Retry-After": str(retry_after), "X-RateLimit-Limit": str(item)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
