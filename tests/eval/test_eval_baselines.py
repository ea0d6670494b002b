"""Baseline plumbing that needs no model: chunk offsets -> passage keys, and
the compare report's rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import DEFAULT_CORPUS_DIR, Corpus, load_corpus
from eval.baselines import PassageLocator
from eval.report import compare_markdown, plot_recall_curves


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(DEFAULT_CORPUS_DIR)


def test_offset_inside_a_passage_maps_to_it(corpus: Corpus) -> None:
    locator = PassageLocator(corpus.passages)
    for passage in corpus.passages:
        assert locator.key_at(passage.doc_id, passage.start) == passage.key
        assert locator.key_at(passage.doc_id, passage.end - 1) == passage.key


def test_offset_before_a_passage_maps_to_the_next_one(corpus: Corpus) -> None:
    """A chunk starting on a heading (第一章 总则) or the title is about the article after it."""
    locator = PassageLocator(corpus.passages)
    first = min((p for p in corpus.passages if p.doc_id == "social-insurance-law"), key=lambda p: p.start)
    assert first.start > 0  # the title comes first
    assert locator.key_at("social-insurance-law", 0) == first.key
    assert locator.key_at("social-insurance-law", first.start - 1) == first.key


def test_offset_after_the_last_passage_maps_to_nothing(corpus: Corpus) -> None:
    locator = PassageLocator(corpus.passages)
    last = max((p for p in corpus.passages if p.doc_id == "social-insurance-law"), key=lambda p: p.end)
    assert locator.key_at("social-insurance-law", last.end + 10_000) is None
    assert locator.key_at("no-such-doc", 0) is None


def _system(recall10: float, en: float) -> dict:
    block = {"n": 2, "recall@1": 0.5, "recall@5": 0.75, "recall@10": recall10, "mrr@10": 0.6, "ndcg@10": 0.7,
             "hit@5": 1.0, "hit@10": 1.0}
    return {"description": "d", "retrieval": block, "by_lang": {"en": block | {"recall@10": en}, "zh": block},
            "recall_curve": [0.5] * 10}


def test_compare_markdown_has_the_table_a_section_per_system_and_languages() -> None:
    comparison = {"n_questions": 3, "n_answerable_with_gold": 2,
                  "systems": {"service (hybrid)": _system(0.9, 0.8), "BM25 only (jieba)": _system(0.7, 0.1)}}
    md = compare_markdown(comparison, {"questions": "dev.jsonl"})
    assert "| system | recall@1 | recall@5 | recall@10 | mrr@10 | ndcg@10 | en recall@10 |" in md
    assert "| BM25 only (jieba) | 0.500 | 0.750 | 0.700 | 0.600 | 0.700 | 0.100 |" in md
    assert "## service (hybrid)" in md and "## BM25 only (jieba)" in md
    assert "## By language" in md


def test_plot_writes_a_png(tmp_path: Path) -> None:
    path = tmp_path / "plots" / "recall.png"
    plot_recall_curves(path, {"a": [0.1 * k for k in range(1, 11)], "b": [None] * 10}, "t")
    assert path.read_bytes()[:4] == b"\x89PNG"
