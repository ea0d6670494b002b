from __future__ import annotations

from fastapi import APIRouter

from qa_service.deps import EngineDep, SettingsDep
from qa_service.errors import BadQuestion
from qa_service.normalize import normalize_question
from qa_service.schemas import AskRequest, AskResponse, ErrorResponse, SearchRequest, SearchResponse
from qa_service.settings import ServiceSettings

router = APIRouter(prefix="/v1", tags=["questions"])

ERRORS = {422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}


def check_text(text: str, settings: ServiceSettings, field: str) -> None:
    if len(text) > settings.max_question_chars:
        raise BadQuestion(f"{field} is {len(text)} characters; the limit is {settings.max_question_chars}")
    if not normalize_question(text):
        raise BadQuestion(f"{field} is empty")


@router.post("/ask", response_model=AskResponse, operation_id="ask", responses=ERRORS)
def ask(request: AskRequest, engine: EngineDep, settings: SettingsDep) -> AskResponse:
    """Answer a question with verbatim citations, or refuse when the corpus cannot answer it."""
    check_text(request.question, settings, "question")
    return engine.ask(request)


@router.post("/search", response_model=SearchResponse, operation_id="search", responses=ERRORS)
def search(request: SearchRequest, engine: EngineDep, settings: SettingsDep) -> SearchResponse:
    """Ranked passages for a query or an article reference, with filters."""
    check_text(request.query, settings, "query")
    return engine.search(request)
