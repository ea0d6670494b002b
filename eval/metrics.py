"""The evaluation itself: a pure function of (questions, per-question results,
corpus keys, source texts) -> report dict. No model, no I/O.

Retrieval metrics are computed by ranx from qrels and a run built here:
- qrels: each scored question's gold keys, expanded through the one gold-matching
  rule over every passage key (a bare doc id -> all passages of that document);
- run: the returned ranking, ordered by score then key (ties broken the same way
  everywhere), and re-scored with strictly decreasing numbers so that ranx cannot
  reorder it.
"""

from __future__ import annotations

import re
import statistics
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import numpy as np

from eval.gold import expand_gold, first_gold_rank, matches_any
from eval.questions import Question
from eval.results import QuestionResult, RankedKey

# Report names -> ranx metric names.
RETRIEVAL_METRICS: dict[str, str] = {
    "recall@1": "recall@1",
    "recall@5": "recall@5",
    "recall@10": "recall@10",
    "mrr@10": "mrr@10",
    "ndcg@10": "ndcg@10",
    "hit@5": "hit_rate@5",
    "hit@10": "hit_rate@10",
}
FAILURE_DEPTH = 10

Rankings = Mapping[str, list[str]]  # question id -> keys, best first


def ordered_keys(ranking: Iterable[RankedKey]) -> list[str]:
    """Best first: higher score, then the smaller key (the project-wide tie-break)."""
    return [r.key for r in sorted(ranking, key=lambda r: (-r.score, r.key))]


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# -- retrieval (ranx) ---------------------------------------------------------


def build_qrels(questions: Iterable[Question], rankings: Rankings, passage_keys: Collection[str]) -> dict[str, dict[str, int]]:
    qrels = {}
    for q in questions:
        universe = set(passage_keys) | set(rankings.get(q.id, []))
        qrels[q.id] = {key: 1 for key in sorted(expand_gold(q.gold, universe))}
    return qrels


def build_run(questions: Iterable[Question], rankings: Rankings) -> dict[str, dict[str, float]]:
    run = {}
    for q in questions:
        keys = list(dict.fromkeys(rankings.get(q.id, [])))  # a key counts once, at its best rank
        run[q.id] = {key: float(len(keys) - i) for i, key in enumerate(keys)}
    return run


def _ranx_scores(
    questions: list[Question], rankings: Rankings, passage_keys: Collection[str], metrics: list[str]
) -> dict[str, float]:
    from ranx import Qrels, Run, evaluate

    qrels = Qrels.from_dict(build_qrels(questions, rankings, passage_keys))
    run = Run.from_dict(build_run(questions, rankings))
    with warnings.catch_warnings():
        # numba warns about its own compilation details; not ours to act on
        warnings.simplefilter("ignore")
        scores = evaluate(qrels, run, metrics, make_comparable=False)
    if isinstance(scores, float | np.floating):  # ranx returns a bare float for one metric
        scores = {metrics[0]: scores}
    return {name: float(value) for name, value in scores.items()}


def retrieval_block(questions: Iterable[Question], rankings: Rankings, passage_keys: Collection[str]) -> dict[str, Any]:
    """ranx metrics over the questions that have something to find."""
    scored = [q for q in questions if q.scored_for_retrieval]
    block: dict[str, Any] = {"n": len(scored)}
    if not scored:
        return block | {name: None for name in RETRIEVAL_METRICS}
    values = _ranx_scores(scored, rankings, passage_keys, list(RETRIEVAL_METRICS.values()))
    return block | {name: values[ranx_name] for name, ranx_name in RETRIEVAL_METRICS.items()}


def recall_curve(
    questions: Iterable[Question], rankings: Rankings, passage_keys: Collection[str], max_k: int = 10
) -> list[float | None]:
    """recall@1 .. recall@max_k, for the plots."""
    scored = [q for q in questions if q.scored_for_retrieval]
    if not scored:
        return [None] * max_k
    names = [f"recall@{k}" for k in range(1, max_k + 1)]
    values = _ranx_scores(scored, rankings, passage_keys, names)
    return [values[name] for name in names]


def significance(
    questions: Iterable[Question],
    system_rankings: Mapping[str, Rankings],
    passage_keys: Collection[str],
    metrics: list[str],
    max_p: float = 0.05,
) -> dict[str, Any]:
    """ranx.compare (paired Student's t-test) between systems on the same questions."""
    from ranx import Qrels, Run, compare

    scored = [q for q in questions if q.scored_for_retrieval]
    if len(scored) < 2 or len(system_rankings) < 2:
        return {}
    # One qrels for all systems: gold expanded over every key any of them returned.
    returned = {q.id: [k for r in system_rankings.values() for k in r.get(q.id, [])] for q in scored}
    qrels = Qrels.from_dict(build_qrels(scored, returned, passage_keys))
    runs = [Run.from_dict(build_run(scored, r), name=name) for name, r in system_rankings.items()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = compare(qrels, runs, [RETRIEVAL_METRICS[m] for m in metrics], max_p=max_p)
    return {"max_p": max_p, "stat_test": "student", "table": str(report), "raw": _plain(report.to_dict())}


def _plain(value: Any) -> Any:
    """numpy scalars -> Python numbers, so the dict serialises to JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _grouped(
    questions: list[Question], key: Callable[[Question], str | None], block: Callable[[list[Question]], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        if (name := key(q)) is not None:
            groups[name].append(q)
    return {name: block(members) for name, members in sorted(groups.items())}


def retrieval_report(questions: list[Question], rankings: Rankings, passage_keys: Collection[str]) -> dict[str, Any]:
    """The top-level retrieval block, with the questions it leaves out counted."""
    block = retrieval_block(questions, rankings, passage_keys)
    without_gold = [q.id for q in questions if q.answerable and not q.has_gold]
    block["n_answerable_without_gold"] = len(without_gold)
    block["answerable_without_gold"] = without_gold
    if any(q.category for q in questions):
        block["by_category"] = _grouped(
            questions, lambda q: q.category, lambda qs: retrieval_block(qs, rankings, passage_keys)
        )
    return block


def by_lang(questions: list[Question], rankings: Rankings, passage_keys: Collection[str]) -> dict[str, dict[str, Any]]:
    return _grouped(questions, lambda q: q.lang, lambda qs: retrieval_block(qs, rankings, passage_keys))


# -- answers, abstention, latency ---------------------------------------------


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
        block["by_category"] = _grouped(
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
        block["by_category"] = _grouped(
            unanswerable, lambda q: q.category, lambda qs: {k: _abstention_rates(qs, results)[k] for k in ("refused_rate", "n")}
        )
    return block


def _percentile(values: list[float], p: float) -> float | None:
    return float(np.percentile(values, p)) if values else None


def latency_block(results: Iterable[QuestionResult]) -> dict[str, Any]:
    results = list(results)
    search = [r.search_ms for r in results if r.search_ms is not None]
    ask = [r.ask_ms for r in results if r.ask_ms is not None]
    return {
        "search_p50": _percentile(search, 50),
        "search_p95": _percentile(search, 95),
        "ask_p50": _percentile(ask, 50),
        "ask_p95": _percentile(ask, 95),
        "n_search": len(search),
        "n_ask": len(ask),
        "note": "per call, client wall clock; /v1/ask runs first, so /v1/search reuses the cached query embedding",
    }


# -- answer content: key facts (nuggets), length, gold share of the citations ---

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
        "answer_chars_median": _percentile(lengths, 50),
        "answer_chars_p90": _percentile(lengths, 90),
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
    block["by_lang"] = _grouped(answerable, lambda q: q.lang, lambda qs: _answers_summary(qs, results))
    if any(q.category for q in answerable):
        block["by_category"] = _grouped(answerable, lambda q: q.category, lambda qs: _answers_summary(qs, results))
    block["incomplete"] = incomplete_answers(questions, results)
    # Answered with nuggets, but the saved result has no answer text: not scored, named.
    block["without_answer_text"] = [
        q.id for q in answerable
        if q.nuggets and results[q.id].refused is not None and not _has_answer_text(results[q.id])
    ]
    return block


def failures(questions: list[Question], rankings: Rankings) -> list[dict[str, Any]]:
    """Scored questions with no gold key among the first FAILURE_DEPTH results."""
    out = []
    for q in questions:
        returned = rankings.get(q.id, [])[:FAILURE_DEPTH]
        if q.scored_for_retrieval and first_gold_rank(q.gold, returned) is None:
            out.append({"id": q.id, "question": q.question, "gold": list(q.gold), "returned": returned})
    return out


# -- the report ---------------------------------------------------------------


def rankings_of(results: Iterable[QuestionResult]) -> dict[str, list[str]]:
    return {r.id: ordered_keys(r.ranking) for r in results}


def compute_report(
    questions: list[Question],
    results: list[QuestionResult],
    passage_keys: Collection[str],
    sources: Mapping[str, str],
) -> dict[str, Any]:
    """The JSON report, one block per aspect (see eval/README.md).

    `passage_keys`: every passage key in the corpus (to expand bare-doc gold);
    `sources`: source file name -> text (for the verbatim-citation check).
    """
    by_id = {r.id: r for r in results}
    missing = [q.id for q in questions if q.id not in by_id]
    if missing:
        raise ValueError(f"no result for {len(missing)} question(s), e.g. {missing[:3]}")
    rankings = rankings_of(by_id[q.id] for q in questions)
    return {
        "n_questions": len(questions),
        "n_answerable_with_gold": sum(q.scored_for_retrieval for q in questions),
        "n_unanswerable": sum(not q.answerable for q in questions),
        "retrieval": retrieval_report(questions, rankings, passage_keys),
        "answer": answer_block(questions, by_id, sources),
        "abstention": abstention_block(questions, by_id),
        "answers": answers_block(questions, by_id),
        "latency_ms": latency_block(by_id[q.id] for q in questions),
        "by_lang": by_lang(questions, rankings, passage_keys),
        "failures": failures(questions, rankings),
    }
