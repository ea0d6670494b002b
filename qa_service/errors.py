"""Every error leaves the API as JSON: {"error": <code>, "message": <sentence>}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa_service.engine import UnknownFilter

log = logging.getLogger("qa_service")


class ServiceUnavailable(Exception):
    """The index or Chroma cannot serve right now (HTTP 503)."""


class BadQuestion(ValueError):
    """A question that is empty after normalisation or over the length limit (HTTP 422)."""


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "message": message}, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for item in exc.errors()[:3]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {item.get('msg')}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error(422, "invalid_request", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(exc.status_code, "http_error")
        return error(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(BadQuestion)
    async def _bad_question(_: Request, exc: BadQuestion) -> JSONResponse:
        return error(422, "invalid_question", str(exc))

    @app.exception_handler(UnknownFilter)
    async def _unknown_filter(_: Request, exc: UnknownFilter) -> JSONResponse:
        return error(422, "unknown_filter", str(exc))

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(_: Request, exc: ServiceUnavailable) -> JSONResponse:
        return error(503, "unavailable", str(exc), {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Chroma server down or unreachable surfaces as a connection error from its client
        if _is_backend_failure(exc):
            log.warning("index backend unavailable: %s", exc)
            return error(503, "unavailable", "the search index is unreachable; retry shortly", {"Retry-After": "5"})
        log.exception("unexpected error")
        return error(500, "internal_error", "unexpected error; it has been logged")


def _is_backend_failure(exc: BaseException) -> bool:
    import httpx

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (httpx.TransportError, ConnectionError, TimeoutError)):
            return True
        if type(current).__module__.startswith("chromadb") and "connect" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False
