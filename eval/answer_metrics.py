"""What the answers did: gold cited, citations verbatim at their offsets, answerable
questions answered, unanswerable ones refused (and why), and the latency of each call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from eval.gold import matches_any
from eval.questions import Question
from eval.results import QuestionResult
from eval.tally import grouped, percentile, rate


def is_verbatim(citation_file: str, start: int, end: int, quote: str, sources: Mapping[str, str]) -> bool:
    text = sources.get(citation_file)
    return text is not None and 0 <= start <= end <= len(text) and text[start:end] == quote


def _answer_rates(
    questions: list[Question], results: Mapping[str, QuestionResult], sources: Mapping[str, str]
) -> dict[str, Any]:
    asked = [q for q in questions if results[q.id].refused is not None]
    answerable = [q for q in asked if q.answerable]
    with_gold = [q for q in answerable if q.has_gold]
    cited_gold = [q for q in with_gold if any(matches_any(q.gold, c.key) for c in results[q.id].citations)]
    answered = [q for q in answerable if not results[q.id].refused]
    citations = [(q.id, c) for q in asked for c in results[q.id].citations]
    not_verbatim = [
        {"id": qid, "key": c.key, "file": c.file, "start": c.start, "end": c.end}
        for qid, c in citations
        if not is_verbatim(c.file, c.start, c.end, c.quote, sources)
    ]
    return {
        "cited_gold_rate": rate(len(cited_gold), len(with_gold)),
        "citation_verbatim_rate": rate(len(citations) - len(not_verbatim), len(citations)),
        "answered_rate": rate(len(answered), len(answerable)),
        "n_answerable": len(answerable),
        "n_answerable_with_gold": len(with_gold),
        "n_cited_gold": len(cited_gold),
        "n_answered": len(answered),
        "n_citations": len(citations),
        "not_verbatim": not_verbatim,
    }


def answer_block(
    questions: list[Question], results: Mapping[str, QuestionResult], sources: Mapping[str, str]
) -> dict[str, Any]:
    block = _answer_rates(questions, results, sources)
    answerable = [q for q in questions if q.answerable]
    if any(q.category for q in answerable):
        summary = ("cited_gold_rate", "citation_verbatim_rate", "answered_rate", "n_answerable")
        block["by_category"] = grouped(
            answerable, lambda q: q.category, lambda qs: {k: _answer_rates(qs, results, sources)[k] for k in summary}
        )
    return block


def _abstention_rates(questions: list[Question], results: Mapping[str, QuestionResult]) -> dict[str, Any]:
    unanswerable = [q for q in questions if not q.answerable and results[q.id].refused is not None]
    refused = [q for q in unanswerable if results[q.id].refused]
    return {
        "refused_rate": rate(len(refused), len(unanswerable)),
        "n": len(unanswerable),
        "n_refused": len(refused),
        "not_refused": [q.id for q in unanswerable if not results[q.id].refused],
        "reasons": dict(Counter(str(results[q.id].refusal_reason) for q in refused)),
    }


def abstention_block(questions: list[Question], results: Mapping[str, QuestionResult]) -> dict[str, Any]:
    block = _abstention_rates(questions, results)
    unanswerable = [q for q in questions if not q.answerable]
    if any(q.category for q in unanswerable):
        block["by_category"] = grouped(
            unanswerable, lambda q: q.category, lambda qs: {k: _abstention_rates(qs, results)[k] for k in ("refused_rate", "n")}
        )
    return block


def latency_block(results: Iterable[QuestionResult]) -> dict[str, Any]:
    results = list(results)
    search = [r.search_ms for r in results if r.search_ms is not None]
    ask = [r.ask_ms for r in results if r.ask_ms is not None]
    return {
        "search_p50": percentile(search, 50),
        "search_p95": percentile(search, 95),
        "ask_p50": percentile(ask, 50),
        "ask_p95": percentile(ask, 95),
        "n_search": len(search),
        "n_ask": len(ask),
        "note": "per call, client wall clock; /v1/ask runs first, so /v1/search reuses the cached query embedding",
    }
