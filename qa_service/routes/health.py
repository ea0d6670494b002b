from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from qa_service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, operation_id="healthz")
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, operation_id="readyz", responses={503: {"model": Health}})
def readyz(request: Request) -> Health | JSONResponse:
    """The index is loaded and Chroma answers; 503 otherwise."""
    engine = request.app.state.engine
    if engine is None:
        detail = request.app.state.load_error or "the index is still loading"
        return JSONResponse(status_code=503, content=Health(status="unavailable", detail=detail).model_dump())
    try:
        engine.ping()
    except Exception as exc:  # any failure to reach Chroma means not ready
        return JSONResponse(
            status_code=503,
            content=Health(status="unavailable", detail=f"Chroma unreachable: {type(exc).__name__}",
                           corpus_version=engine.index.corpus_version, index_version=engine.index.build_id).model_dump(),
        )
    return Health(status="ready", corpus_version=engine.index.corpus_version, index_version=engine.index.build_id)
