"""The report is a pure function of questions and per-question results: checked
on a tiny run whose metrics are worked out by hand (the arithmetic is the formula)."""

from __future__ import annotations

import math

import pytest

from eval.metrics import compute_report
from eval.retrieval_metrics import ordered_keys, retrieval_block
from eval.questions import Question
from eval.results import CitationRecord, QuestionResult, RankedKey

PASSAGES = ["law:1", "law:2", "law:3", "law:4", "law:5", "law:6", "guide#intro", "guide#step-1"]
SOURCE = "第一条 为了规范社会保险关系。第二条 国家建立基本养老保险。"
SOURCES = {"law.md": SOURCE}


def ranked(*keys: str) -> list[RankedKey]:
    return [RankedKey(key, 1.0 - i / 10) for i, key in enumerate(keys)]


def cite(key: str, quote: str, start: int | None = None) -> CitationRecord:
    start = SOURCE.index(quote) if start is None else start
    return CitationRecord(key=key, file="law.md", start=start, end=start + len(quote), quote=quote)


QUESTIONS = [
    Question("q1", "one gold, found first", "zh", gold=("law:1",), category="a"),
    Question("q2", "two gold, one found third", "zh", gold=("law:2", "law:3"), category="a"),
    Question("q3", "a whole document is gold", "en", gold=("guide",), category="b"),
    Question("q4", "answerable, no gold", "zh"),
    Question("u1", "out of scope, refused", "en", answerable=False),
    Question("u2", "out of scope, answered", "zh", answerable=False),
]
RESULTS = [
    QuestionResult("q1", ranked("law:1", "law:4"), 10.0, False, None, [cite("law:1", "为了规范社会保险关系。")], 100.0),
    QuestionResult("q2", ranked("law:5", "law:6", "law:2"), 20.0, False, None, [cite("law:5", "国家建立", start=0)], 200.0),
    QuestionResult("q3", ranked("law:1", "guide#step-1"), 30.0, True, "out_of_scope", [], 300.0),
    QuestionResult("q4", ranked("law:4"), 40.0, False, None, [], 400.0),
    QuestionResult("u1", [], 50.0, True, "out_of_scope", [], 500.0),
    QuestionResult("u2", ranked("law:6"), 60.0, False, None, [cite("law:6", "第二条")], 600.0),
]


@pytest.fixture(scope="module")
def report() -> dict:
    return compute_report(QUESTIONS, RESULTS, PASSAGES, SOURCES)


def test_report_has_exactly_the_required_top_level_keys(report: dict) -> None:
    assert set(report) == {
        "n_questions", "n_answerable_with_gold", "n_unanswerable", "retrieval", "answer",
        "abstention", "answers", "latency_ms", "by_lang", "failures",
    }
    assert {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "hit@5", "hit@10"} <= set(report["retrieval"])
    assert {"cited_gold_rate", "citation_verbatim_rate", "answered_rate"} <= set(report["answer"])
    assert {"refused_rate", "n"} <= set(report["abstention"])
    assert {"search_p50", "search_p95", "ask_p50", "ask_p95"} <= set(report["latency_ms"])


def test_counts_keep_every_question(report: dict) -> None:
    assert report["n_questions"] == 6
    assert report["n_answerable_with_gold"] == 3
    assert report["n_unanswerable"] == 2
    # not scored for retrieval, but counted and named, never dropped silently
    assert report["retrieval"]["n_answerable_without_gold"] == 1
    assert report["retrieval"]["answerable_without_gold"] == ["q4"]


def test_retrieval_metrics_by_hand(report: dict) -> None:
    r = report["retrieval"]
    assert r["n"] == 3
    # q1 first at rank 1; q2 first gold at rank 3 (1 of 2 gold); q3 bare doc = 2 passages, 1 found at rank 2
    assert r["mrr@10"] == pytest.approx((1 / 1 + 1 / 3 + 1 / 2) / 3)
    assert r["recall@1"] == pytest.approx((1 + 0 + 0) / 3)
    assert r["recall@5"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert r["recall@10"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert r["hit@5"] == pytest.approx(1.0)
    ndcg_q2 = (1 / math.log2(3 + 1)) / (1 / math.log2(2) + 1 / math.log2(3))
    ndcg_q3 = (1 / math.log2(2 + 1)) / (1 / math.log2(2) + 1 / math.log2(3))
    assert r["ndcg@10"] == pytest.approx((1 + ndcg_q2 + ndcg_q3) / 3)


def test_by_lang_and_by_category_split_the_same_numbers(report: dict) -> None:
    assert report["by_lang"]["zh"]["n"] == 2
    assert report["by_lang"]["zh"]["mrr@10"] == pytest.approx((1 / 1 + 1 / 3) / 2)
    assert report["by_lang"]["en"]["mrr@10"] == pytest.approx(1 / 2)
    assert report["retrieval"]["by_category"]["a"]["recall@5"] == pytest.approx((1 + 1 / 2) / 2)
    assert report["retrieval"]["by_category"]["b"]["recall@5"] == pytest.approx(1 / 2)


def test_answer_and_abstention_rates(report: dict) -> None:
    a = report["answer"]
    # q1 cites its gold; q2 cites law:5 (not gold); q3 refused, no citations
    assert a["cited_gold_rate"] == pytest.approx(1 / 3)
    # answerable q1..q4: q3 refused
    assert a["answered_rate"] == pytest.approx(3 / 4)
    # citations: q1 verbatim; q2's quote is not at offset 0; u2 verbatim
    assert a["n_citations"] == 3
    assert a["citation_verbatim_rate"] == pytest.approx(2 / 3)
    assert a["not_verbatim"] == [{"id": "q2", "key": "law:5", "file": "law.md", "start": 0, "end": 4}]
    assert report["abstention"]["n"] == 2
    assert report["abstention"]["refused_rate"] == pytest.approx(1 / 2)
    assert report["abstention"]["not_refused"] == ["u2"]


def test_latency_percentiles(report: dict) -> None:
    lat = report["latency_ms"]
    assert lat["search_p50"] == pytest.approx((30 + 40) / 2)  # six values: the mean of the middle two
    assert lat["ask_p50"] == pytest.approx((300 + 400) / 2)
    assert lat["search_p95"] == pytest.approx(50 + 0.75 * (60 - 50))  # linear interpolation at rank 4.75


def test_failures_list_questions_with_no_gold_in_top_10() -> None:
    miss = QuestionResult("q1", ranked(*[f"law:{i}" for i in range(2, 7)]), 1.0, False)
    report = compute_report(QUESTIONS[:1], [miss], PASSAGES, SOURCES)
    assert report["failures"] == [
        {"id": "q1", "question": "one gold, found first", "gold": ["law:1"],
         "returned": ["law:2", "law:3", "law:4", "law:5", "law:6"]}
    ]


def test_ties_are_broken_by_score_then_key() -> None:
    tied = [RankedKey("law:9", 0.5), RankedKey("law:2", 0.5), RankedKey("law:7", 0.9)]
    assert ordered_keys(tied) == ["law:7", "law:2", "law:9"]
    question = Question("t", "ties", "zh", gold=("law:2",))
    # ranx on its own would order tied scores arbitrarily; ours puts law:2 before law:9
    block = retrieval_block([question], {"t": ordered_keys(tied)}, PASSAGES)
    assert block["mrr@10"] == pytest.approx(1 / 2)


def test_a_question_without_results_scores_zero_not_skipped() -> None:
    report = compute_report(QUESTIONS[:2], [RESULTS[0], QuestionResult("q2", [])], PASSAGES, SOURCES)
    assert report["retrieval"]["n"] == 2
    assert report["retrieval"]["mrr@10"] == pytest.approx((1 + 0) / 2)


def test_missing_result_for_a_question_is_an_error() -> None:
    with pytest.raises(ValueError, match="no result for 1 question"):
        compute_report(QUESTIONS[:2], RESULTS[:1], PASSAGES, SOURCES)


def test_no_scored_questions_gives_none_not_a_crash() -> None:
    report = compute_report(QUESTIONS[4:], RESULTS[4:], PASSAGES, SOURCES)
    assert report["retrieval"]["n"] == 0
    assert report["retrieval"]["recall@10"] is None
    assert report["answer"]["cited_gold_rate"] is None


def test_significance_compares_systems_on_the_same_qrels() -> None:
    from eval.retrieval_metrics import significance

    questions = [Question(f"s{i}", "q", "zh", gold=("law:1",)) for i in range(6)]
    good = {q.id: ["law:1", "law:2"] for q in questions}
    bad = {q.id: ["law:2", "law:3"] for q in questions}
    result = significance(questions, {"good": good, "bad": bad}, PASSAGES, ["recall@10", "mrr@10"])
    scores = result["raw"]
    assert scores["good"]["scores"] == {"recall@10": 1.0, "mrr@10": 1.0}
    assert scores["bad"]["scores"] == {"recall@10": 0.0, "mrr@10": 0.0}
    assert "good" in result["table"] and result["max_p"] == 0.05
