from __future__ import annotations

import logging

from fastapi import APIRouter

from qa_service.deps import EngineDep, MetricsDep, SettingsDep
from qa_service.errors import BadQuestion, InvalidUnicode
from qa_service.normalize import normalize_question
from qa_service.schemas import AskRequest, AskResponse, ErrorResponse, Filters, SearchRequest, SearchResponse
from qa_service.engine import QAEngine
from qa_service.metrics import Metrics
from qa_service.settings import ServiceSettings

router = APIRouter(prefix="/v1", tags=["questions"])
log = logging.getLogger("qa_service.questions")

ERRORS = {
    400: {"model": ErrorResponse, "description": "The body is not valid JSON, UTF-8 or Unicode."},
    422: {"model": ErrorResponse, "description": "A field is missing, out of range, too long, or names an unknown filter."},
    503: {"model": ErrorResponse, "description": "The index is loading or Chroma is unreachable."},
}


def _valid_unicode(text: str, field: str) -> None:
    # JSON may carry "\ud800": a lone surrogate, which no UTF-8 response could echo back.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidUnicode(f"{field} is not valid Unicode: lone surrogate at character {exc.start}") from None


def check_text(text: str, settings: ServiceSettings, field: str) -> None:
    """The limit holds before normalisation (so NFKC never runs over more than
    max_question_chars characters) and after it: NFKC can multiply a text's length
    (one U+FDFA becomes 18 characters), and the expanded text is what gets embedded."""
    _valid_unicode(text, field)
    limit = settings.max_question_chars
    if len(text) > limit:
        raise BadQuestion(f"{field} is {len(text)} characters; the limit is {limit}")
    normalized = normalize_question(text)
    if not normalized:
        raise BadQuestion(f"{field} is empty")
    if len(normalized) > limit:
        raise BadQuestion(f"{field} is {len(normalized)} characters after normalisation (NFKC); the limit is {limit}")


def check_filters(filters: Filters | None) -> None:
    for name, values in (filters.as_dict() if filters else {}).items():
        for value in values:
            _valid_unicode(value, f"filters.{name}")


def _text_fields(text: str, settings: ServiceSettings, name: str) -> dict[str, object]:
    fields: dict[str, object] = {f"{name}_chars": len(text)}
    if settings.log_questions:
        fields[name] = text
    return fields


def answer_question(request: AskRequest, engine: QAEngine, settings: ServiceSettings, metrics: Metrics | None, event: str) -> AskResponse:
    """Validate, answer, count and log: shared by /v1/ask and /v1/ask/stream."""
    check_text(request.question, settings, "question")
    check_filters(request.filters)
    response = engine.ask(request)
    if metrics is not None:
        metrics.observe_answer(response.refused, response.refusal_reason)
    log.info(
        "%s: %s (%s)", event,
        f"refused ({response.refusal_reason})" if response.refused else f"{len(response.citations)} citations",
        response.mode,
        extra={
            "event": event, **_text_fields(request.question, settings, "question"), "lang": response.lang,
            "mode": response.mode, "refused": response.refused, "refusal_reason": response.refusal_reason,
            "partial": response.partial, "citations": [c.key for c in response.citations], "index_version": response.index_version,
            "took_ms": response.took_ms,
        },
    )
    return response


@router.post("/ask", response_model=AskResponse, operation_id="ask", responses=ERRORS)
def ask(request: AskRequest, engine: EngineDep, settings: SettingsDep, metrics: MetricsDep) -> AskResponse:
    """Answer a question with verbatim citations, or refuse when the corpus cannot answer it."""
    return answer_question(request, engine, settings, metrics, "ask")


@router.post("/search", response_model=SearchResponse, operation_id="search", responses=ERRORS)
def search(request: SearchRequest, engine: EngineDep, settings: SettingsDep) -> SearchResponse:
    """Ranked passages for a query or an article reference, with filters."""
    check_text(request.query, settings, "query")
    check_filters(request.filters)
    response = engine.search(request)
    log.info(
        "search: %d results", len(response.results),
        extra={
            "event": "search", **_text_fields(request.query, settings, "query"), "results": len(response.results),
            "index_version": response.index_version, "took_ms": response.took_ms,
        },
    )
    return response
