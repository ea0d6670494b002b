"""Builds the FastAPI app. Nothing loads at import: the lifespan opens the index
and warms the models once, retrying in the background if Chroma is not up yet.

Middleware, outermost first: request id + access log + metrics (and the JSON
answer to any unexpected exception), rate limit (/v1/*), body size limit, HEAD
as GET. The request head's size is limited before all of these, in the HTTP
protocol (qa_service.edge, used by `serve`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from qa_service.bodylimit import BodyLimitMiddleware
from qa_service.edge import HeadAsGetMiddleware
from qa_service.errors import error, install_error_handlers, unexpected_error_response
from qa_service.logs import configure_logging
from qa_service.metrics import Metrics
from qa_service.ratelimit import RateLimitMiddleware
from qa_service.reingest import Job, ReingestJobs
from qa_service.request_context import RequestContextMiddleware
from qa_service.routes import admin, corpus, health, qa, stream
from qa_service.schemas import ErrorResponse
from qa_service.settings import ServiceSettings

log = logging.getLogger("qa_service")
STATIC_DIR = Path(__file__).resolve().parent / "static"
RETRY_SECONDS = 2.0

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}}
# Declared on every operation, so the OpenAPI document lists each status the service can send.
TOO_LARGE = {413: {"model": ErrorResponse, "description": "The request body is over settings.max_body_bytes."}}
RATE_LIMITED = {429: {"model": ErrorResponse, "description": "Too many requests from this address.", "headers": _RETRY_AFTER}}
UNAVAILABLE = {503: {"model": ErrorResponse, "description": "The index is loading or Chroma is unreachable.", "headers": _RETRY_AFTER}}
INVALID = {422: {"model": ErrorResponse, "description": "A parameter is missing or out of range."}}


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def one_blas_thread() -> None:
    """A request's own numpy work — a few matrix-vector products of a few hundred
    or thousand rows — is far too small to split between cores: with OpenBLAS's
    default of one thread per core, the second thread mostly waits for the first,
    and on two busy cores a 1,464 x 384 product took 2-14 ms with two threads
    against 0.1-0.4 ms with one (profile of 200 first-time /v1/ask). Requests
    run side by side on the server's thread pool instead. Process-wide; the
    embedders set their own thread counts for batches (ingest, re-ingest)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _open_engine(settings: ServiceSettings) -> Any:
    """The engine for `settings`, with BLAS limited once more: loading may have
    brought in a BLAS of its own (the torch backend's), which the first limit missed."""
    from qa_service.engine import QAEngine

    engine = QAEngine.load(settings)
    one_blas_thread()
    return engine


def _load_engine(app: FastAPI, settings: ServiceSettings, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            app.state.engine = _open_engine(settings)
            app.state.load_error = None
            log.info("index %s loaded", app.state.engine.index.build_id)
            return
        except Exception as exc:  # keep serving /healthz and retry: Chroma may come up later
            app.state.load_error = f"index not loaded: {_first_line(exc)}"
            log.warning("%s; retrying in %.0f s", app.state.load_error, RETRY_SECONDS)
            stop.wait(RETRY_SECONDS)


def create_app(settings: ServiceSettings | None = None, engine: Any | None = None) -> FastAPI:
    settings = settings or ServiceSettings()
    metrics = Metrics() if settings.metrics_enabled else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_format, settings.log_level)
        one_blas_thread()
        stop = threading.Event()
        if app.state.engine is None:
            # First attempt before accepting traffic, so a healthy start is ready at once;
            # after a failure, keep retrying in the background while /readyz says 503.
            try:
                app.state.engine = _open_engine(settings)
            except Exception as exc:
                app.state.load_error = f"index not loaded: {_first_line(exc)}"
                log.warning("%s; retrying in the background", app.state.load_error)
                threading.Thread(target=_load_engine, args=(app, settings, stop), daemon=True).start()
        yield
        stop.set()

    app = FastAPI(
        title="Social insurance QA",
        version="0.1.0",
        description="Answers questions on Chinese social insurance law with verbatim citations.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.load_error = None
    app.state.metrics = metrics

    def count_job(job: Job) -> None:
        if metrics is not None:
            metrics.reingest_jobs.labels(job.status.value).inc()

    app.state.reingest = ReingestJobs(settings, lambda: app.state.engine, on_finish=count_job)
    install_error_handlers(app)

    # add_middleware puts each one outside the previous: the last added runs first.
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.rate_limit:
        app.add_middleware(RateLimitMiddleware, limit=settings.rate_limit, storage=settings.rate_limit_storage,
                           timeout_s=settings.rate_limit_storage_timeout_s)
    app.add_middleware(RequestContextMiddleware, metrics=metrics, on_error=unexpected_error_response, root_app=app)

    app.include_router(health.router, responses=TOO_LARGE)
    app.include_router(qa.router, responses={**TOO_LARGE, **RATE_LIMITED, **UNAVAILABLE})
    app.include_router(stream.router, responses={**TOO_LARGE, **RATE_LIMITED, **UNAVAILABLE})
    app.include_router(corpus.router, responses={**INVALID, **TOO_LARGE, **RATE_LIMITED, **UNAVAILABLE})
    app.include_router(admin.router, responses={**INVALID, **TOO_LARGE, **RATE_LIMITED})
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    if metrics is not None:

        @app.get("/metrics", include_in_schema=False)
        def prometheus_metrics() -> Response:
            return metrics.render()

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        index_html = STATIC_DIR / "index.html"
        if index_html.exists():
            return FileResponse(index_html)
        return error(404, "not_found", "no page is installed")

    _document_text_limits(app, settings.max_question_chars)
    return app


# Request fields whose length the service checks itself (after normalisation too,
# with the message clients rely on), so the models do not declare it: the
# OpenAPI document gets the limit from the settings instead.
TEXT_FIELDS = {"AskRequest": "question", "SearchRequest": "query"}


def _document_text_limits(app: FastAPI, max_chars: int) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.get("components", {}).get("schemas", {})
            for model, field_name in TEXT_FIELDS.items():
                prop = components.get(model, {}).get("properties", {}).get(field_name)
                if prop is not None:
                    prop.update(minLength=1, maxLength=max_chars)
                    prop["description"] = (prop.get("description", "") + f" At most {max_chars} characters, "
                                           "before and after normalisation (NFKC); not empty after it.").strip()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
