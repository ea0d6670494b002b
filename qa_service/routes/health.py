from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from qa_service.errors import RETRY_AFTER_UNAVAILABLE_S
from qa_service.schemas import ErrorResponse, Health

router = APIRouter(tags=["health"])


class NotReady(ErrorResponse):
    """503 from /readyz: the error shape every endpoint uses, plus the health fields."""

    status: str = "unavailable"
    detail: str | None = None
    corpus_version: str | None = None
    index_version: str | None = None


def _not_ready(message: str, engine: object | None = None) -> JSONResponse:
    index = getattr(engine, "index", None)
    body = NotReady(
        error="unavailable", message=message, detail=message,
        corpus_version=getattr(index, "corpus_version", None), index_version=getattr(index, "build_id", None),
    )
    return JSONResponse(status_code=503, content=body.model_dump(), headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)})


@router.get("/healthz", response_model=Health, operation_id="healthz")
def healthz() -> Health:
    """The process is up (liveness)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    operation_id="readyz",
    responses={503: {"model": NotReady, "description": "The index is not loaded, or Chroma does not answer."}},
)
def readyz(request: Request) -> Health | JSONResponse:
    """The index is loaded and Chroma answers within settings.chroma_timeout_s; 503 otherwise."""
    engine = request.app.state.engine
    if engine is None:
        return _not_ready(request.app.state.load_error or "the index is still loading")
    try:
        engine.ping()
    except Exception as exc:  # any failure to reach Chroma means not ready
        reason = str(exc).splitlines()[0][:200] if str(exc) else ""
        return _not_ready(f"Chroma unreachable: {type(exc).__name__}{': ' + reason if reason else ''}", engine)
    return Health(status="ready", corpus_version=engine.index.corpus_version, index_version=engine.index.build_id)
