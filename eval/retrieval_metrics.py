"""Retrieval metrics: ranx over the rankings the system returned.

- qrels: each scored question's gold keys, expanded through the one gold-matching
  rule over every passage key (a bare doc id -> all passages of that document);
- run: the returned ranking, ordered by score then key (ties broken the same way
  everywhere), and re-scored with strictly decreasing numbers so that ranx cannot
  reorder it.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import numpy as np

from eval.gold import expand_gold, first_gold_rank
from eval.questions import Question
from eval.results import QuestionResult, RankedKey
from eval.tally import grouped

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


def rankings_of(results: Iterable[QuestionResult]) -> dict[str, list[str]]:
    return {r.id: ordered_keys(r.ranking) for r in results}


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


def retrieval_report(questions: list[Question], rankings: Rankings, passage_keys: Collection[str]) -> dict[str, Any]:
    """The top-level retrieval block, with the questions it leaves out counted."""
    block = retrieval_block(questions, rankings, passage_keys)
    without_gold = [q.id for q in questions if q.answerable and not q.has_gold]
    block["n_answerable_without_gold"] = len(without_gold)
    block["answerable_without_gold"] = without_gold
    if any(q.category for q in questions):
        block["by_category"] = grouped(
            questions, lambda q: q.category, lambda qs: retrieval_block(qs, rankings, passage_keys)
        )
    return block


def by_lang(questions: list[Question], rankings: Rankings, passage_keys: Collection[str]) -> dict[str, dict[str, Any]]:
    return grouped(questions, lambda q: q.lang, lambda qs: retrieval_block(qs, rankings, passage_keys))


def failures(questions: list[Question], rankings: Rankings) -> list[dict[str, Any]]:
    """Scored questions with no gold key among the first FAILURE_DEPTH results."""
    out = []
    for q in questions:
        returned = rankings.get(q.id, [])[:FAILURE_DEPTH]
        if q.scored_for_retrieval and first_gold_rank(q.gold, returned) is None:
            out.append({"id": q.id, "question": q.question, "gold": list(q.gold), "returned": returned})
    return out
