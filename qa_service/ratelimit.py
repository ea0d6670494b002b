"""Rate limiting per client address on the API (/v1/*), with the `limits` package
(the engine under slowapi) in a pure-ASGI middleware: probes (/healthz, /readyz),
/metrics, the page and the docs are never limited.

Counts live where settings.rate_limit_storage says: `memory://` (this process
alone: N workers or replicas allow N times the limit) or a Redis server that
every worker and replica shares (`redis://host:6379/0`), through the async
storages of `limits` so that a slow Redis never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.storage import storage_from_string
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from qa_service.errors import error

LIMITED_PREFIXES = ("/v1/",)
KEY_PREFIX = "siqa"  # keys in a shared Redis: LIMITER/siqa/<client>/<amount>/<multiples>/<granularity>
# A storage that fails is reported at most this often (a Redis outage would log every request).
WARN_EVERY_S = 30.0

log = logging.getLogger("qa_service.ratelimit")


def make_storage(url: str, timeout_s: float) -> Storage:
    """The `limits` async storage for a settings URL: memory://, redis://, rediss://, redis+unix://, …"""
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        return storage_from_string("async+memory://")
    return storage_from_string(
        f"async+{url}", implementation="redispy", key_prefix=KEY_PREFIX,
        socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
    )


class RateLimitMiddleware:
    """`limit` as in settings.rate_limit: "120/minute", or several: "10/second;500/hour".

    The client is the connection's address (uvicorn replaces it with the
    X-Forwarded-For address only for proxies in --forwarded-allow-ips). When the
    storage cannot be reached within `timeout_s`, the request is let through
    and a warning logged: an outage of the counter must not take the API down.
    """

    def __init__(self, app: ASGIApp, limit: str, storage: str = "memory://", timeout_s: float = 0.5,
                 prefixes: tuple[str, ...] = LIMITED_PREFIXES) -> None:
        self.app = app
        self.items: list[RateLimitItem] = parse_many(limit)
        self.storage_url = storage
        self.limiter = MovingWindowRateLimiter(make_storage(storage, timeout_s))
        self.timeout_s = timeout_s
        self.prefixes = prefixes
        self.description = limit
        self._warned_at = -math.inf

    async def _over_limit(self, client: str) -> RateLimitItem | None:
        for item in self.items:
            if not await self.limiter.hit(item, client):
                return item
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown",))[0] or "unknown"
        try:
            # the storage's own socket timeouts bound each call; this bounds the whole check
            item = await asyncio.wait_for(self._over_limit(client), timeout=self.timeout_s * 4)
            retry_after = None
            if item is not None:
                reset_at = (await self.limiter.get_window_stats(item, client)).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
        except Exception as exc:  # storage down or too slow: let the request through
            self._warn(exc)
            item = None
        if item is not None:
            response = error(
                429, "rate_limited",
                f"more than {item.amount} requests per {item.multiples} {item.GRANULARITY.name} "
                f"from {client}; retry in {retry_after} s",
                {"Retry-After": str(retry_after), "X-RateLimit-Limit": str(item)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            scheme = self.storage_url.split("://", 1)[0]
            log.warning("rate-limit storage (%s://…) failed, requests are not limited: %s: %s",
                        scheme, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "",
                        extra={"event": "rate_limit_storage_error"})
