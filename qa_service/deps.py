from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qa_service.engine import QAEngine
from qa_service.errors import ServiceUnavailable
from qa_service.settings import ServiceSettings


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def get_engine(request: Request) -> QAEngine:
    engine: QAEngine | None = request.app.state.engine
    if engine is None:
        raise ServiceUnavailable(request.app.state.load_error or "the index is still loading")
    return engine


EngineDep = Annotated[QAEngine, Depends(get_engine)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
