"""Request ids, structured (JSON) logs and Prometheus metrics.

One pure-ASGI middleware, outermost among ours, gives every request an id
(the client's `X-Request-ID` when it is a sane token, else a fresh one),
echoes it in the response, makes it available to every log record through a
context variable, logs one `request` line per request and records the HTTP
metrics. Nothing here logs a question's text unless `log_questions` is set.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import PlatformCollector, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
# Accepted from clients as is; anything else (too long, spaces, quotes, non-ASCII) is replaced.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
UNMATCHED = "<unmatched>"
# Probes and scrapes: logged at DEBUG when they succeed, so INFO shows traffic, not polling.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("qa_service.access")


def current_request_id() -> str | None:
    return request_id_var.get()


# --------------------------------------------------------------------------- logging

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_RECORD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


# Characters that could end or fake a log line, or hide text from whoever reads it:
# C0 and C1 controls (\n, \r, ESC …), DEL, line and paragraph separators, bidi overrides.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """`text` with every unsafe character written as an escape (\\n, \\x1b, \\u2028), so that a
    logged question can never start a line of its own."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


# What json.dumps(ensure_ascii=False) leaves raw: DEL and C1 controls, separators, bidi overrides.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id and the `extra` fields.
    JSON already escapes C0 controls; the separators U+2028/U+2029 and bidi overrides,
    which ensure_ascii=False would leave raw, are escaped too."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key != "request_id" and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        text = json.dumps(payload, ensure_ascii=False, default=str)
        # outside strings JSON is ASCII, so any such character here is inside one: a JSON escape round-trips
        return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class TextFormatter(logging.Formatter):
    """`ts LEVEL logger: message [request id] key=value …` on one line: the message and
    every field have their control characters escaped; a traceback follows on lines
    that each start with '  | ', so no logged text can pass for a record of its own."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.getMessage())
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        extras = {k: v for k, v in vars(record).items()
                  if k not in _RECORD_ATTRS and k != "request_id" and not k.startswith("_")}
        tail = " ".join(f"{escape_controls(str(k))}={_text_value(v)}" for k, v in extras.items())
        text = " ".join(x for x in (line, f"[{escape_controls(str(request_id))}]" if request_id else "", tail) if x)
        if record.exc_info:
            trace = self.formatException(record.exc_info)
            text += "".join(f"\n  | {escape_controls(part)}" for part in trace.splitlines())
        return text


def _text_value(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (list, tuple, dict)) else str(value)
    return escape_controls(text)


_HANDLER_MARK = "_siqa_handler"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the record (as pytest or a
    supervisor may replace it after start-up)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    """Send the `qa_service` loggers, and uvicorn's (start-up, framing errors), to
    stderr in the chosen format. Idempotent: calling it again (another app in the
    same process) replaces our handlers. uvicorn's loggers keep the level uvicorn
    gives them (`serve --log-level`)."""
    for name in ("qa_service", "uvicorn"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if getattr(handler, _HANDLER_MARK, False):
                logger.removeHandler(handler)
        handler = _StderrHandler()
        setattr(handler, _HANDLER_MARK, True)
        handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
        logger.addHandler(handler)
        logger.propagate = False
        if name == "qa_service":
            logger.setLevel(level)


# --------------------------------------------------------------------------- metrics

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The service's Prometheus metrics, in a registry of their own (one per app),
    so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self._index: tuple[str, str] | None = None
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.requests = Counter(
            "siqa_http_requests", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "siqa_http_request_duration_seconds", "Time from request to last response byte.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.in_progress = Gauge(
            "siqa_http_requests_in_progress", "Requests being served.", registry=self.registry,
        )
        self.answers = Counter(
            "siqa_answers", "Answers from /v1/ask by outcome (answered or refused).",
            ["outcome"], registry=self.registry,
        )
        self.refusals = Counter(
            "siqa_refusals", "Refused questions by reason (out_of_scope, no_such_article, instructions, …).",
            ["reason"], registry=self.registry,
        )
        self.reingest_jobs = Counter(
            "siqa_reingest_jobs", "Re-ingest jobs started over HTTP, by final status.",
            ["status"], registry=self.registry,
        )
        self.index_info = Gauge(
            "siqa_index_info", "The index version being served (value 1).",
            ["index_version", "corpus_version"], registry=self.registry,
        )

    def observe_answer(self, refused: bool, reason: str | None) -> None:
        self.answers.labels("refused" if refused else "answered").inc()
        if refused:
            self.refusals.labels(reason or "unspecified").inc()

    def set_index(self, index_version: str, corpus_version: str) -> None:
        if self._index == (index_version, corpus_version):
            return
        self._index = (index_version, corpus_version)
        self.index_info.clear()
        self.index_info.labels(index_version, corpus_version).set(1)

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


# --------------------------------------------------------------------------- the middleware

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

