"""POST /v1/ask/stream: the answer of /v1/ask as server-sent events.

The answer is verified before any of it is sent (an LLM reply must pass the
citation checks of qa_service.llm first), then streamed as `token` events
carrying chunks of the verified text, and a final `answer` event carrying the
whole AskResponse as JSON. Extractive and refused answers stream the same way.
Validation errors (422, 400, 503) come back as ordinary JSON before the stream
starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from qa_service.deps import EngineDep, MetricsDep, SettingsDep
from qa_service.routes.qa import ERRORS, answer_question
from qa_service.schemas import AskRequest, AskResponse

router = APIRouter(prefix="/v1", tags=["questions"])

# a chunk: a run of up to 12 characters ending at a space or punctuation when possible
_CHUNK = re.compile(r"\[\d+\]|.{1,12}?(?:[\s，。；：、！？,.;:!?]|$)|.{1,12}", re.DOTALL)


def chunks(text: str) -> list[str]:
    parts = [m.group() for m in _CHUNK.finditer(text) if m.group()]
    return parts if "".join(parts) == text else [text]


async def _events(response: AskResponse) -> AsyncIterator[dict[str, str]]:
    for part in chunks(response.answer):
        yield {"event": "token", "data": json.dumps({"text": part}, ensure_ascii=False)}
    yield {"event": "answer", "data": response.model_dump_json()}


@router.post(
    "/ask/stream",
    operation_id="ask_stream",
    responses={
        **ERRORS,
        200: {
            "description": "text/event-stream: `token` events ({\"text\": chunk}) then one `answer` event (AskResponse JSON).",
            "content": {"text/event-stream": {}},
        },
    },
    response_class=EventSourceResponse,
)
def ask_stream(request: AskRequest, engine: EngineDep, settings: SettingsDep, metrics: MetricsDep) -> EventSourceResponse:
    """Like /v1/ask, streamed: `token` events with the (already verified) answer text, then `answer`."""
    response = answer_question(request, engine, settings, metrics, "ask_stream")
    return EventSourceResponse(_events(response), ping=15)
