"""Request ids, the access log and the HTTP metrics.

One pure-ASGI middleware, outermost among ours, gives every request an id
(the client's `X-Request-ID` when it is a sane token, else a fresh one),
echoes it in the response, makes it available to every log record through a
context variable (qa_service.logs), logs one `request` line per request and
records the HTTP metrics (qa_service.metrics). Nothing here logs a question's
text.

prometheus-fastapi-instrumentator and starlette-exporter were considered for
the metrics part and not taken. starlette-exporter's label names are fixed
(`path`, `status_code`, `app_name`; the latency histogram is labelled by
status too) and its metrics live in the process-wide registry, so the
documented `siqa_http_requests_total{route,method,status}` and
`siqa_http_request_duration_seconds{route,method}` would change and two apps
in one process (the tests) would collide. The instrumentator can keep our
names and labels only through custom instrumentation functions over our own
metrics, and then still registers its in-progress gauge in the process-wide
registry (no registry argument), labels unmatched paths "none" (or the raw
path) instead of "<unmatched>", builds a Request and a Response per request,
and resolves the route in its own middleware, while the access log below
needs the same route label anyway: it would not replace the route labelling
here, only add a second pass of it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa_service.logs import request_id_var
from qa_service.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
# Accepted from clients as is; anything else (too long, spaces, quotes, non-ASCII) is replaced.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
UNMATCHED = "<unmatched>"
# Probes and scrapes: logged at DEBUG when they succeed, so INFO shows traffic, not polling.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

access_log = logging.getLogger("qa_service.access")


ErrorResponder = Callable[[BaseException, str], Response]


def _route_templates(routes: object, prefix: str = "") -> list[tuple[re.Pattern[str], str]]:
    """(regex, template) for every route, through included routers (which this
    FastAPI keeps as wrappers that do not expose the matched route)."""
    found: list[tuple[re.Pattern[str], str]] = []
    for route in routes or ():  # type: ignore[attr-defined]
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found += _route_templates(inner.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, Mount):  # static files: one label for the whole mount
            found.append((re.compile(re.escape(prefix + route.path) + "(/|$)"), prefix + route.path))
        elif isinstance(getattr(route, "path", None), str):
            template = prefix + route.path
            found.append((compile_path(template)[0], template))
    return found


class _RouteLabels:
    """The matched route's template (/v1/articles/{doc_id}/{article}), never the raw
    path, so metric labels stay few; requests answered before routing (413, 429)
    are matched against the app's routes here."""

    def __init__(self, app: ASGIApp | None) -> None:
        self.app = app
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    def __call__(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is not None and isinstance(getattr(route, "path", None), str):
            return str(route.path)
        if self._templates is None:
            self._templates = _route_templates(getattr(getattr(self.app, "router", None), "routes", ()))
        path = scope.get("path", "")
        for regex, template in self._templates:
            if regex.match(path):
                return template
        return UNMATCHED


class RequestContextMiddleware:
    """Request id, access log, metrics, and the last word on unexpected errors.

    An exception escaping the app (a bug, or Chroma's client failing) becomes the
    JSON response from `on_error` here, with the request id, instead of travelling
    to Starlette's ServerErrorMiddleware, which would log it a second time.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics | None, on_error: ErrorResponder, root_app: ASGIApp | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.on_error = on_error
        self.route_label = _RouteLabels(root_app or app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started_response = False
        started = time.perf_counter()
        if self.metrics:
            self.metrics.in_progress.inc()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started_response:
                raise
            response = self.on_error(exc, request_id)
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = self.route_label(scope)
            method = scope.get("method", "")
            method = method if method in KNOWN_METHODS else "OTHER"  # label values stay few
            if self.metrics:
                self.metrics.in_progress.dec()
                self.metrics.requests.labels(route, method, str(status)).inc()
                self.metrics.latency.labels(route, method).observe(elapsed)
            access_log.log(
                logging.DEBUG if scope.get("path") in QUIET_PATHS and status < 400 else logging.INFO,
                "%s %s %d", method, scope.get("path", ""), status,
                extra={
                    "event": "request", "method": method, "path": scope.get("path", ""), "route": route,
                    "status": status, "duration_ms": round(elapsed * 1000, 2),
                    "client": (scope.get("client") or ("-",))[0],
                },
            )
            request_id_var.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            try:
                return value.decode("ascii")
            except UnicodeDecodeError:
                return None
    return None
