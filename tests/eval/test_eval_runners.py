"""The shared loop over a Runner, and the HTTP runner's requests and errors
(httpx's in-memory transport stands in for the network; the live server is
exercised in test_eval_integration.py)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from eval.questions import Question
from eval.results import read_results, write_results
from eval.runners import HttpRunner, RunnerError, run_questions
from qa_service.schemas import AskRequest, AskResponse, Citation, SearchRequest, SearchResponse, SearchResult


def search_response(query: str, keys: list[str]) -> SearchResponse:
    results = [
        SearchResult(key=k, doc_id=k.split(":")[0], title="t", title_en="t", article=1, chapter=None, kind="law",
                     text="x", start=0, end=1, score=1.0 - i / 10)
        for i, k in enumerate(keys)
    ]
    return SearchResponse(query=query, lang="zh", results=results, corpus_version="c", index_version="i1", took_ms=1.0)


def ask_response(question: str, refused: bool, cited: list[str]) -> AskResponse:
    citations = [
        Citation(marker=n, key=k, doc_id=k.split(":")[0], title="t", title_en="t", article=1, chapter=None,
                 quote="第一条", start=0, end=3, file="law.md", score=0.5)
        for n, k in enumerate(cited, start=1)
    ]
    answer = "无法回答" if refused else f"答：{question} [1]"
    return AskResponse(question=question, lang="zh", answer=answer, refused=refused, citations=citations,
                       corpus_version="c", index_version="i1", took_ms=1.0)


class FakeRunner:
    """A Runner answering from fixed tables: no model, no server."""

    name = "fake"

    def __init__(self, rankings: dict[str, list[str]], refused: set[str]) -> None:
        self.rankings, self.refused, self.requests = rankings, refused, []

    def search(self, request: SearchRequest) -> SearchResponse:
        self.requests.append(request)
        return search_response(request.query, self.rankings.get(request.query, [])[: request.top_k])

    def ask(self, request: AskRequest) -> AskResponse:
        self.requests.append(request)
        refused = request.question in self.refused
        return ask_response(request.question, refused, [] if refused else self.rankings[request.question][:1])

    def close(self) -> None:
        pass


QUESTIONS = [
    Question("q1", "养老保险", "zh", gold=("law:1",)),
    Question("u1", "公积金", "zh", answerable=False),
]


def test_run_questions_calls_ask_then_search_and_records_both() -> None:
    """ask first: its latency is the user-facing one and must not profit from search's cache."""
    runner = FakeRunner({"养老保险": ["law:1", "law:2", "law:3"], "公积金": ["law:9"]}, refused={"公积金"})
    results = run_questions(runner, QUESTIONS, top_k=2, progress=False)
    assert [type(r).__name__ for r in runner.requests] == ["AskRequest", "SearchRequest"] * 2
    assert runner.requests[1].top_k == 2
    q1, u1 = results
    assert [r.key for r in q1.ranking] == ["law:1", "law:2"]
    assert (q1.refused, [c.key for c in q1.citations], q1.index_version) == (False, ["law:1"], "i1")
    assert (u1.refused, u1.citations) == (True, [])
    assert q1.search_ms is not None and q1.search_ms >= 0 and q1.ask_ms is not None
    assert (q1.answer, u1.answer) == ("答：养老保险 [1]", "无法回答")  # the answer text, for the nugget scores


def test_results_round_trip_with_the_answer_text(tmp_path: Path) -> None:
    runner = FakeRunner({"养老保险": ["law:1"], "公积金": []}, refused={"公积金"})
    results = run_questions(runner, QUESTIONS, progress=False)
    write_results(tmp_path / "r.jsonl", results)
    assert read_results(tmp_path / "r.jsonl") == results
    # results files written before the answer text was recorded still load, with answer None
    old = {"id": "q1", "ranking": [], "refused": False, "citations": []}
    (tmp_path / "old.jsonl").write_text(json.dumps(old) + "\n", encoding="utf-8")
    assert read_results(tmp_path / "old.jsonl")[0].answer is None


def test_a_failing_call_names_the_question() -> None:
    runner = FakeRunner({}, refused=set())  # ask() raises KeyError: no ranking for the question
    with pytest.raises(RunnerError, match="question 'q1': KeyError"):
        run_questions(runner, QUESTIONS, progress=False)


def test_http_runner_posts_the_contract_bodies() -> None:
    seen: list[tuple[str, dict]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append((request.url.path, body))
        if request.url.path == "/v1/search":
            return httpx.Response(200, json=search_response(body["query"], ["law:1"]).model_dump())
        return httpx.Response(200, json=ask_response(body["question"], False, ["law:1"]).model_dump())

    client = httpx.Client(base_url="http://svc", transport=httpx.MockTransport(handler))
    runner = HttpRunner("http://svc", client=client)
    assert [r.key for r in runner.search(SearchRequest(query="养老", top_k=7)).results] == ["law:1"]
    assert runner.ask(AskRequest(question="养老")).citations[0].key == "law:1"
    assert seen == [("/v1/search", {"query": "养老", "top_k": 7}), ("/v1/ask", {"question": "养老", "top_k": 5})]


def test_http_errors_carry_status_and_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": "question_too_long", "message": "at most 2000 characters"})

    runner = HttpRunner("http://svc", client=httpx.Client(base_url="http://svc", transport=httpx.MockTransport(handler)))
    with pytest.raises(RunnerError, match=r"POST /v1/search: HTTP 422: .*at most 2000 characters"):
        runner.search(SearchRequest(query="x"))


def test_http_runner_rejects_a_bad_timeout() -> None:
    with pytest.raises(ValueError, match="timeout_s must be positive, got 0"):
        HttpRunner("http://svc", timeout_s=0)


def limited_handler(limited_times: int, retry_after: str | None = "3"):  # type: ignore[no-untyped-def]
    """429 (with this Retry-After) for the first `limited_times` calls, then 200."""
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] <= limited_times:
            headers = {"retry-after": retry_after} if retry_after is not None else {}
            return httpx.Response(429, json={"error": "rate_limited", "message": "slow down"}, headers=headers)
        return httpx.Response(200, json=search_response(json.loads(request.content)["query"], ["law:1"]).model_dump())

    return handler, calls


def test_http_runner_waits_out_429_with_retry_after_and_counts_the_wait() -> None:
    handler, calls = limited_handler(2, "3")
    slept: list[float] = []
    runner = HttpRunner("http://svc", client=httpx.Client(base_url="http://svc", transport=httpx.MockTransport(handler)),
                        sleep=slept.append)
    assert [r.key for r in runner.search(SearchRequest(query="x")).results] == ["law:1"]
    assert calls["n"] == 3 and slept == [3.0, 3.0]
    assert (runner.retries, runner.waited_s) == (2, 6.0)


def test_http_runner_gives_up_after_max_retries() -> None:
    handler, calls = limited_handler(10, "1")
    slept: list[float] = []
    runner = HttpRunner("http://svc", client=httpx.Client(base_url="http://svc", transport=httpx.MockTransport(handler)),
                        max_retries=3, sleep=slept.append)
    with pytest.raises(RunnerError, match=r"POST /v1/search: HTTP 429 after 3 retries \(3 s waited in all\)"):
        runner.search(SearchRequest(query="x"))
    assert calls["n"] == 4 and slept == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(("header", "expected"), [(None, 1.0), ("0", 0.0), ("17", 17.0), ("soon", 1.0), ("9999", 120.0)])
def test_retry_after_is_read_and_capped(header: str | None, expected: float) -> None:
    handler, _ = limited_handler(1, header)
    slept: list[float] = []
    runner = HttpRunner("http://svc", client=httpx.Client(base_url="http://svc", transport=httpx.MockTransport(handler)),
                        sleep=slept.append)
    runner.search(SearchRequest(query="x"))
    assert slept == [expected]


def test_retry_after_as_an_http_date() -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from eval.runners import retry_after_seconds

    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_seconds(later) <= 30
    assert retry_after_seconds(format_datetime(datetime(2000, 1, 1, tzinfo=timezone.utc), usegmt=True)) == 0.0


def test_waiting_is_not_counted_as_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that only the stand-in sleep moves: the 5 s of Retry-After are the
    only time that passes, so the latency must come out as 0, not 5,000 ms."""
    import eval.runners as runners

    now = [1000.0]
    monkeypatch.setattr(runners.time, "perf_counter", lambda: now[0])
    limited, _ = limited_handler(1, "5")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/ask":
            return httpx.Response(200, json=ask_response("x", False, ["law:1"]).model_dump())
        return limited(request)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    runner = HttpRunner("http://svc", client=httpx.Client(base_url="http://svc", transport=httpx.MockTransport(handler)),
                        sleep=sleep)
    result = runners.run_question(runner, Question("q", "x", "zh", gold=("law:1",)), 10)
    assert (runner.retries, runner.waited_s) == (1, 5.0)
    assert (result.search_ms, result.ask_ms) == (0.0, 0.0)
