"""Answer content: the key facts (nuggets) each answer states, its length, and the
gold share of the passages it cites."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from eval.gold import matches_any
from eval.questions import Question
from eval.results import QuestionResult
from eval.tally import grouped, percentile, rate

QUOTE_PREFIX = 40  # characters of each quote shown beside a missed nugget
_WHITESPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """Nugget matching ignores whitespace on both sides (line breaks, spaces in English)."""
    return _WHITESPACE.sub("", text)


def nugget_found(nugget: Iterable[str], texts: Iterable[str]) -> bool:
    """Any alternative of the nugget inside any of the (already squeezed) texts."""
    texts = list(texts)
    return any(alt and alt in text for alt in map(squeeze, nugget) for text in texts)


def _answered(result: QuestionResult) -> bool:
    """Not refused, with the answer text recorded."""
    return result.refused is False and result.answer is not None


def _has_answer_text(result: QuestionResult) -> bool:
    """Asked, and either refused or with its answer text recorded (older results files lack it)."""
    return result.refused is True or _answered(result)


def missing_nuggets(question: Question, result: QuestionResult) -> list[tuple[str, ...]]:
    """The question's nuggets absent from the answer text and every citation's quote.

    A refused answer states nothing, so it misses all of them. Only the answer text
    and the quotes count: nuggets are corpus substrings, the quotes are corpus text."""
    if result.refused:
        return list(question.nuggets)
    texts = [squeeze(result.answer or "")] + [squeeze(c.quote) for c in result.citations]
    return [n for n in question.nuggets if not nugget_found(n, texts)]


def _answers_summary(questions: list[Question], results: Mapping[str, QuestionResult]) -> dict[str, Any]:
    """Nugget recall and complete rate (questions with nuggets); answer length and the
    gold share of the cited passages (answered questions; the share needs gold)."""
    asked = [q for q in questions if q.answerable and results[q.id].refused is not None]
    scored = [q for q in asked if q.nuggets and _has_answer_text(results[q.id])]
    missing = {q.id: len(missing_nuggets(q, results[q.id])) for q in scored}
    n_nuggets = sum(len(q.nuggets) for q in scored)
    n_found = n_nuggets - sum(missing.values())
    n_complete = sum(not missing[q.id] for q in scored)
    answered = [q for q in asked if _answered(results[q.id])]
    lengths = [len(results[q.id].answer or "") for q in answered]
    # A passage cited twice in one answer is one cited passage.
    cited = [(q, key) for q in answered if q.has_gold for key in dict.fromkeys(c.key for c in results[q.id].citations)]
    n_cited_gold = sum(matches_any(q.gold, key) for q, key in cited)
    return {
        "n_with_nuggets": len(scored),
        "n_nuggets": n_nuggets,
        "n_nuggets_found": n_found,
        "nugget_recall": rate(n_found, n_nuggets),
        "nugget_recall_macro": (
            statistics.fmean(1 - missing[q.id] / len(q.nuggets) for q in scored) if scored else None
        ),
        "complete_rate": rate(n_complete, len(scored)),
        "n_complete": n_complete,
        "n_answered": len(answered),
        "answer_chars_median": percentile(lengths, 50),
        "answer_chars_p90": percentile(lengths, 90),
        "n_cited": len(cited),
        "n_cited_gold": n_cited_gold,
        "gold_cited_share": rate(n_cited_gold, len(cited)),
    }


def _shorten(text: str, limit: int = QUOTE_PREFIX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def incomplete_answers(questions: list[Question], results: Mapping[str, QuestionResult]) -> list[dict[str, Any]]:
    """Questions that miss a nugget: which ones, and what the answer cited instead."""
    out = []
    for q in questions:
        result = results[q.id]
        if not (q.answerable and q.nuggets and _has_answer_text(result)):
            continue
        missing = missing_nuggets(q, result)
        if missing:
            out.append({
                "id": q.id,
                "question": q.question,
                "lang": q.lang,
                "category": q.category,
                "refused": bool(result.refused),
                "gold": list(q.gold),
                "n_nuggets": len(q.nuggets),
                "missing": [list(n) for n in missing],
                "cited": [{"key": c.key, "quote": _shorten(c.quote)} for c in result.citations],
            })
    return out


def answers_block(questions: list[Question], results: Mapping[str, QuestionResult]) -> dict[str, Any]:
    """Answer content over answerable questions: overall, per language, per category."""
    answerable = [q for q in questions if q.answerable]
    block = _answers_summary(answerable, results)
    block["by_lang"] = grouped(answerable, lambda q: q.lang, lambda qs: _answers_summary(qs, results))
    if any(q.category for q in answerable):
        block["by_category"] = grouped(answerable, lambda q: q.category, lambda qs: _answers_summary(qs, results))
    block["incomplete"] = incomplete_answers(questions, results)
    # Answered with nuggets, but the saved result has no answer text: not scored, named.
    block["without_answer_text"] = [
        q.id for q in answerable
        if q.nuggets and results[q.id].refused is not None and not _has_answer_text(results[q.id])
    ]
    return block
