"""The evaluation itself: a pure function of (questions, per-question results,
corpus keys, source texts) -> report dict. No model, no I/O.

One block per aspect, each computed in its own module: retrieval (ranx,
eval.retrieval_metrics), citations, abstention and latency (eval.answer_metrics),
answer content (eval.nuggets).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from eval.answer_metrics import abstention_block, answer_block, latency_block
from eval.nuggets import answers_block
from eval.questions import Question
from eval.results import QuestionResult
from eval.retrieval_metrics import by_lang, failures, rankings_of, retrieval_report


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
