"""Every error leaves the API as JSON: {"error": <code>, "message": <sentence>}.

| status | error codes |
|---|---|
| 400 | invalid_json, invalid_body, invalid_unicode |
| 401 / 403 | unauthorized / forbidden (admin endpoints) |
| 404 | not_found |
| 405 | method_not_allowed |
| 409 | ingest_running |
| 413 | body_too_large |
| 422 | invalid_request, invalid_question, unknown_filter |
| 429 | rate_limited |
| 500 | internal_error |
| 503 | unavailable |
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa_service.engine import UnknownFilter

log = logging.getLogger("qa_service")

RETRY_AFTER_UNAVAILABLE_S = 5

_HTTP_CODES = {
    400: "invalid_body",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "ingest_running",
    413: "body_too_large",
    429: "rate_limited",
}


class ServiceUnavailable(Exception):
    """The index or Chroma cannot serve right now (HTTP 503)."""


class BadQuestion(ValueError):
    """A question that is empty after normalisation or over the length limit (HTTP 422)."""


class InvalidUnicode(BadQuestion):
    """Text that is not valid Unicode, e.g. a lone surrogate sent as a JSON escape (HTTP 400)."""


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body is being read, so that FastAPI passes it on untouched (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


def _printable(text: str) -> str:
    # A message may quote client input; lone surrogates would make the JSON unencodable.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "message": _printable(message)}, headers=headers)


def unavailable(message: str) -> JSONResponse:
    return error(503, "unavailable", message, {"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)})


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for item in exc.errors()[:3]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {item.get('msg')}")
    return "; ".join(parts)


def _json_error(exc: RequestValidationError) -> str | None:
    for item in exc.errors():
        if item.get("type") == "json_invalid":
            position = next((p for p in item.get("loc", ()) if isinstance(p, int)), None)
            reason = (item.get("ctx") or {}).get("error", "JSON decode error")
            return f"request body is not valid JSON: {reason}" + (f" at character {position}" if position is not None else "")
    return None


def _body_error(exc: StarletteHTTPException) -> str:
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return f"request body is not valid UTF-8: byte {cause.object[cause.start:cause.start + 1]!r} at position {cause.start}"
    if isinstance(cause, UnicodeError):
        return "request body is not valid UTF-8 JSON"
    return str(exc.detail)


def is_backend_failure(exc: BaseException) -> bool:
    """Chroma's server down, unreachable or too slow: its client raises httpx
    transport errors (bounded by settings.chroma_timeout_s), sometimes wrapped."""
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


def is_missing_collection(exc: BaseException) -> bool:
    """The index's collection is gone from Chroma (its data reset, or deleted by hand)."""
    from chromadb.errors import NotFoundError

    current: BaseException | None = exc
    for _ in range(10):
        if current is None:
            return False
        if isinstance(current, NotFoundError):
            return True
        current = current.__cause__ or current.__context__
    return False


def unexpected_error_response(exc: BaseException, request_id: str | None = None) -> JSONResponse:
    """The response for an exception no handler claimed."""
    if is_missing_collection(exc):
        log.error("index collection missing from Chroma: %s", str(exc).splitlines()[0] if str(exc) else "")
        return unavailable("the index's collections are missing from Chroma (was its data reset?): run a re-ingest")
    if is_backend_failure(exc):
        log.warning("index backend unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return unavailable("the search index (Chroma) is unreachable; retry shortly")
    log.error("unexpected error", exc_info=exc)
    where = f" (request id {request_id})" if request_id else ""
    return error(500, "internal_error", f"unexpected error{where}; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        if (message := _json_error(exc)) is not None:
            return error(400, "invalid_json", message)
        return error(422, "invalid_request", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = _body_error(exc) if exc.status_code == 400 else str(exc.detail)
        return error(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(BadQuestion)
    async def _bad_question(_: Request, exc: BadQuestion) -> JSONResponse:
        return error(422, "invalid_question", str(exc))

    @app.exception_handler(InvalidUnicode)
    async def _invalid_unicode(_: Request, exc: InvalidUnicode) -> JSONResponse:
        return error(400, "invalid_unicode", str(exc))

    @app.exception_handler(UnknownFilter)
    async def _unknown_filter(_: Request, exc: UnknownFilter) -> JSONResponse:
        return error(422, "unknown_filter", str(exc))

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(_: Request, exc: ServiceUnavailable) -> JSONResponse:
        return unavailable(str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Normally RequestContextMiddleware answers first; this stays for apps built without it.
        return unexpected_error_response(exc, getattr(request.state, "request_id", None))
