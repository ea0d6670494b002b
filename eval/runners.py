"""Getting answers from the system under test, in-process or over HTTP.

Both runners speak the API contract (qa_service.schemas), so the loop that
times the calls and everything after it are shared. Nothing here loads a model
at import or construction: `InProcessRunner.load()` is the explicit warm-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TypeVar

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from eval.questions import Question
from eval.results import CitationRecord, QuestionResult, RankedKey
from qa_service.schemas import AskRequest, AskResponse, SearchRequest, SearchResponse

if TYPE_CHECKING:
    from qa_service.engine import QAEngine
    from qa_service.settings import ServiceSettings


class RunnerError(RuntimeError):
    """The system under test failed on a call; the message names the call."""


class Runner(Protocol):
    name: str

    def search(self, request: SearchRequest) -> SearchResponse: ...

    def ask(self, request: AskRequest) -> AskResponse: ...

    def close(self) -> None: ...


class InProcessRunner:
    name = "in-process"

    def __init__(self, engine: QAEngine) -> None:
        self.engine = engine

    @classmethod
    def load(cls, settings: ServiceSettings | None = None) -> InProcessRunner:
        """Open the live index and warm the models (slow: seconds)."""
        from qa_service.engine import QAEngine
        from qa_service.settings import ServiceSettings

        return cls(QAEngine.load(settings or ServiceSettings()))

    def search(self, request: SearchRequest) -> SearchResponse:
        return self.engine.search(request)

    def ask(self, request: AskRequest) -> AskResponse:
        return self.engine.ask(request)

    def close(self) -> None:
        pass


DEFAULT_MAX_RETRIES = 10
MAX_RETRY_AFTER_S = 120.0  # a longer Retry-After is waited for this long at most, then asked again


def retry_after_seconds(value: str | None) -> float:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110); 1 s when absent or unreadable."""
    if value is None:
        return 1.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime
        from datetime import datetime, timezone

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return 1.0


class HttpRunner:
    """The same calls as POST {url}/v1/search and {url}/v1/ask.

    A 429 (the service's rate limit) is retried after its Retry-After, at most
    `max_retries` times per call; the time spent waiting is counted in
    `waited_s` and `retries`, so a report can say how long the limit held it up.
    """

    def __init__(self, url: str, timeout_s: float = 60.0, client: httpx.Client | None = None,
                 max_retries: int = DEFAULT_MAX_RETRIES, sleep: Callable[[float], None] = time.sleep) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.name = url
        self.max_retries = max_retries
        self.waited_s = 0.0
        self.retries = 0
        self._sleep = sleep
        # Connecting should be quick on loopback; a slow answer is allowed more time.
        self._client = client or httpx.Client(
            base_url=url.rstrip("/"), timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        )

    def _post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.post(path, json=body)
            except httpx.HTTPError as exc:
                raise RunnerError(f"POST {path}: {type(exc).__name__}: {exc}") from None
            if response.status_code != 429 or attempt == self.max_retries:
                break
            wait = min(retry_after_seconds(response.headers.get("retry-after")), MAX_RETRY_AFTER_S)
            self._sleep(wait)
            self.waited_s += wait
            self.retries += 1
        if response.status_code == 429:
            raise RunnerError(f"POST {path}: HTTP 429 after {self.max_retries} retries "
                              f"({self.waited_s:.0f} s waited in all): {response.text[:300]}")
        if response.status_code != 200:
            raise RunnerError(f"POST {path}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    def search(self, request: SearchRequest) -> SearchResponse:
        return SearchResponse.model_validate(self._post("/v1/search", request.model_dump(exclude_none=True)))

    def ask(self, request: AskRequest) -> AskResponse:
        return AskResponse.model_validate(self._post("/v1/ask", request.model_dump(exclude_none=True)))

    def close(self) -> None:
        self._client.close()


@contextmanager
def progress_bar(total: int, description: str, enabled: bool = True) -> Iterator[Progress]:
    """A rich progress bar on stderr, so stdout keeps only the summary."""
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        # Redirected stderr (CI logs) would only collect blank lines from a live display.
        disable=not enabled or not console.is_terminal,
        transient=True,
    )
    with progress:
        progress.add_task(description, total=total)
        yield progress


Req = TypeVar("Req")
Resp = TypeVar("Resp")


def _timed(call: Callable[[Req], Resp], request: Req, runner: object = None) -> tuple[Resp, float]:
    """The call and its milliseconds, less any time the runner spent waiting out a rate limit."""
    waited = getattr(runner, "waited_s", 0.0)
    started = time.perf_counter()
    response = call(request)
    elapsed = time.perf_counter() - started - (getattr(runner, "waited_s", 0.0) - waited)
    return response, elapsed * 1000


def run_question(runner: Runner, question: Question, top_k: int) -> QuestionResult:
    """One /v1/ask and one /v1/search call, each timed by the client's wall clock.

    /v1/ask goes first: it is what users call, so its latency is measured cold.
    The service caches query embeddings, so the /v1/search that follows with the
    same text is warm (search latency = retrieval and fusion without embedding).
    """
    try:
        answer, ask_ms = _timed(runner.ask, AskRequest(question=question.question), runner)
        found, search_ms = _timed(runner.search, SearchRequest(query=question.question, top_k=top_k), runner)
    except RunnerError as exc:
        raise RunnerError(f"question {question.id!r}: {exc}") from None
    except Exception as exc:  # in-process engine errors: name the question, keep the cause
        raise RunnerError(f"question {question.id!r}: {type(exc).__name__}: {exc}") from exc
    return QuestionResult(
        id=question.id,
        ranking=[RankedKey(r.key, r.score) for r in found.results],
        search_ms=round(search_ms, 3),
        refused=answer.refused,
        refusal_reason=answer.refusal_reason,
        citations=[CitationRecord(c.key, c.file, c.start, c.end, c.quote) for c in answer.citations],
        ask_ms=round(ask_ms, 3),
        index_version=found.index_version,
        answer=answer.answer,
    )


def run_questions(
    runner: Runner, questions: list[Question], top_k: int = 10, progress: bool = True
) -> list[QuestionResult]:
    results = []
    with progress_bar(len(questions), f"asking {runner.name}", progress) as bar:
        for question in questions:
            results.append(run_question(runner, question, top_k))
            bar.advance(bar.task_ids[0])
    return results
