from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request

from qa_service.engine import QAEngine
from qa_service.errors import ServiceUnavailable
from qa_service.metrics import Metrics
from qa_service.settings import ServiceSettings

log = logging.getLogger("qa_service")


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def get_engine(request: Request) -> QAEngine:
    """The engine, switched to the newest published index version first (at most
    every settings.reload_check_s). A failed switch keeps the current version
    serving; if Chroma itself is down, the request's own query reports that."""
    engine: QAEngine | None = request.app.state.engine
    if engine is None:
        raise ServiceUnavailable(request.app.state.load_error or "the index is still loading; retry shortly")
    try:
        if engine.maybe_reload():
            log.info("now serving index %s", engine.index.build_id, extra={"event": "index_switch", "index_version": engine.index.build_id})
    except Exception as exc:
        log.warning("could not switch to the newest index version: %s: %s", type(exc).__name__, exc)
    metrics: Metrics | None = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.set_index(engine.index.build_id, engine.index.corpus_version)
    return engine


def get_metrics(request: Request) -> Metrics | None:
    return getattr(request.app.state, "metrics", None)


EngineDep = Annotated[QAEngine, Depends(get_engine)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
MetricsDep = Annotated[Metrics | None, Depends(get_metrics)]
