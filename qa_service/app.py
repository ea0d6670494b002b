"""Builds the FastAPI app. Nothing loads at import: the lifespan opens the index
and warms the models once, retrying in the background if Chroma is not up yet."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from qa_service.errors import error, install_error_handlers
from qa_service.routes import corpus, health, qa
from qa_service.settings import ServiceSettings

log = logging.getLogger("qa_service")
STATIC_DIR = Path(__file__).resolve().parent / "static"
RETRY_SECONDS = 2.0


def _load_engine(app: FastAPI, settings: ServiceSettings, stop: threading.Event) -> None:
    from qa_service.engine import QAEngine

    while not stop.is_set():
        try:
            app.state.engine = QAEngine.load(settings)
            app.state.load_error = None
            log.info("index %s loaded", app.state.engine.index.build_id)
            return
        except Exception as exc:  # keep serving /healthz and retry: Chroma may come up later
            app.state.load_error = f"index not loaded: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            log.warning("%s; retrying in %.0f s", app.state.load_error, RETRY_SECONDS)
            stop.wait(RETRY_SECONDS)


def create_app(settings: ServiceSettings | None = None, engine: object | None = None) -> FastAPI:
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        if app.state.engine is None:
            # First attempt before accepting traffic, so a healthy start is ready at once;
            # after a failure, keep retrying in the background while /readyz says 503.
            try:
                from qa_service.engine import QAEngine

                app.state.engine = QAEngine.load(settings)
            except Exception as exc:
                app.state.load_error = f"index not loaded: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                log.warning("%s; retrying in the background", app.state.load_error)
                stop.clear()
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
    install_error_handlers(app)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):  # type: ignore[no-untyped-def]
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
            return error(413, "body_too_large", f"request body over {settings.max_body_bytes} bytes")
        return await call_next(request)

    app.include_router(health.router)
    app.include_router(qa.router)
    app.include_router(corpus.router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        index_html = STATIC_DIR / "index.html"
        if index_html.exists():
            return FileResponse(index_html)
        return error(404, "not_found", "no page is installed")

    return app
