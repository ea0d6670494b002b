"""The new retrievers on the real index and models (the session's shared index)."""

from __future__ import annotations

import numpy as np
import pytest

from qa_service.engine import QAEngine
from qa_service.retrieval import (
    DEFAULT_WEIGHTS,
    BestRowRetriever,
    DenseRetriever,
    GlossRetriever,
    LexicalRetriever,
    passes,
)
from qa_service.settings import ServiceSettings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(service_settings: ServiceSettings) -> QAEngine:
    return QAEngine.load(service_settings)


def test_sentence_retriever_scores_a_passage_by_its_best_sentence(engine: QAEngine) -> None:
    index = engine.index
    retriever = BestRowRetriever(engine.embedders["e5"], "sentences")
    query = engine.retriever.make_query("缴费年限累计计算", "zh")
    hits = retriever.search(index, query, 5, {})
    assert len(hits) == 5
    vector = np.asarray(engine.embedders["e5"].embed_query(query.text), dtype=np.float32)
    for hit in hits:
        rows = index.sentence_rows[hit.passage.key]
        expected = float((index.sentence_vectors["e5"][rows] @ vector).max())
        assert hit.score == pytest.approx(expected, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert "social-insurance-law:19" in [h.passage.key for h in hits]


def test_sentence_retriever_respects_filters(engine: QAEngine) -> None:
    retriever = BestRowRetriever(engine.embedders["e5"], "sentences")
    query = engine.retriever.make_query("失业保险金领取期限", "zh")
    hits = retriever.search(engine.index, query, 50, {"doc_id": ["unemployment-insurance-regulation"]})
    assert hits and {h.passage.doc_id for h in hits} == {"unemployment-insurance-regulation"}
    assert len(hits) == sum(p.doc_id == "unemployment-insurance-regulation" for p in engine.index.passages)


def test_question_retriever_scores_a_passage_by_its_best_question(engine: QAEngine) -> None:
    index = engine.index
    retriever = BestRowRetriever(engine.embedders["e5"], "questions")
    assert retriever.name == "e5_questions"
    # not one of the stored questions: a visitor's own words
    query = engine.retriever.make_query("换了城市工作，以前交的养老保险怎么办", "zh")
    hits = retriever.search(index, query, 10, {})
    assert len(hits) == 10
    vector = np.asarray(engine.embedders["e5"].embed_query(query.text), dtype=np.float32)
    for hit in hits:
        rows = np.flatnonzero(index.question_passage == index.row_of[hit.passage.key])
        expected = float((index.question_vectors["e5"][rows] @ vector).max())
        assert hit.score == pytest.approx(expected, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].passage.key == "social-insurance-law:19"


def test_question_retriever_crosses_languages_and_respects_filters(engine: QAEngine) -> None:
    retriever = BestRowRetriever(engine.embedders["use"], "questions")
    query = engine.retriever.make_query("Who pays for maternity insurance, me or my company?", "en")
    hits = retriever.search(engine.index, query, 5, {})
    assert "social-insurance-law:53" in [h.passage.key for h in hits]
    only = {"doc_id": ["unemployment-insurance-regulation"]}
    hits = retriever.search(engine.index, query, 50, only)
    assert hits and {h.passage.doc_id for h in hits} == {"unemployment-insurance-regulation"}


def test_every_passage_of_the_bundled_corpus_has_questions_in_both_languages(engine: QAEngine) -> None:
    index = engine.index
    langs: dict[str, set[str]] = {}
    for question in index.questions:
        langs.setdefault(question.key, set()).add(question.lang)
    assert langs == {p.key: {"zh", "en"} for p in index.passages}
    assert {name: len(v) for name, v in index.question_vectors.items()} == {"use": len(index.questions), "e5": len(index.questions)}


def test_english_question_glossed_into_chinese_finds_the_statute(engine: QAEngine) -> None:
    retriever = GlossRetriever(LexicalRetriever(), "zh")
    query = engine.retriever.make_query("How many months of unemployment benefits can I get after my employer laid me off?", "en")
    hits = retriever.search(engine.index, query, 10, {})
    assert hits and {h.passage.lang for h in hits} == {"zh"}
    assert "social-insurance-law:46" in [h.passage.key for h in hits[:5]]
    # a Chinese question is not glossed into Chinese
    assert retriever.search(engine.index, engine.retriever.make_query("失业保险金", "zh"), 10, {}) == []


def test_hybrid_search_runs_only_the_retrievers_its_language_weighs(engine: QAEngine) -> None:
    """Checked for each language (not only the last one of the loop): a Chinese
    question never runs e5 by passage or the English→Chinese gloss, an English
    one runs the gloss into the statutes' Chinese terms."""
    used: dict[str, set[str]] = {}
    for lang, question in (("zh", "失业保险金能领多久"), ("en", "How long can I get unemployment benefits after my employer laid me off?")):
        result = engine.retriever.search(engine.index, engine.retriever.make_query(question, lang), 10, {})
        weighed = {name for pair, w in DEFAULT_WEIGHTS.items() if pair.startswith(f"{lang}>") for name in w}
        used[lang] = {name for hit in result.hits for name in hit.found_by}
        assert used[lang] <= weighed, (lang, used[lang] - weighed)
    assert {"e5_sentences", "e5_questions", "lexical"} <= used["zh"]
    assert not {"e5", "lexical_gloss_zh", "e5_gloss_zh"} & used["zh"]
    assert {"lexical_gloss_zh", "e5_sentences", "e5_questions"} <= used["en"]


def test_an_english_question_costs_one_e5_embedding(engine: QAEngine) -> None:
    """The e5 run over an English question's Chinese gloss was dropped (it added
    nothing to the rankings): e5 embeds the question alone, once."""
    e5 = engine.embedders["e5"]
    seen: list[str] = []
    original = e5.encode

    def counting(texts: list[str], is_query: bool):  # type: ignore[no-untyped-def]
        seen.extend(texts)
        return original(texts, is_query)

    e5.encode = counting  # type: ignore[method-assign]
    try:
        question = "Does my unemployment benefit stop when I move to a new job in another city? (e5 count)"
        engine.retriever.search(engine.index, engine.retriever.make_query(question, "en"), 10, {})
    finally:
        del e5.encode
    assert seen == [question]


def _brute_force(engine: QAEngine, name: str, text: str, filters: dict[str, list[str]], k: int) -> list[tuple[str, float]]:
    """(passage id, cosine) best first, over the vectors Chroma stores (`get` reads
    its record store, which every process sees whole)."""
    index = engine.index
    stored = index.collections[name].get(include=["embeddings"])
    vector = np.asarray(engine.embedders[name].embed_query(text))
    allowed = {p.id for p in index.passages if passes(p, filters)}
    scored = [
        (pid, float(np.dot(e, vector) / np.linalg.norm(e) / np.linalg.norm(vector)))
        for pid, e in zip(stored["ids"], np.asarray(stored["embeddings"]), strict=True)
        if pid in allowed
    ]
    return sorted(scored, key=lambda x: -x[1])[:k]


@pytest.mark.parametrize(
    "filters",
    [
        {},  # embedded Chroma and 244 passages: every query is scored exactly
        {"doc_id": ["unemployment-insurance-regulation"]},
        {"chapter": ["第二章 基本养老保险"]},
        {"kind": ["law"], "lang": ["zh"]},
    ],
)
def test_dense_search_from_passage_vectors_is_exact(engine: QAEngine, filters: dict[str, list[str]]) -> None:
    assert engine.index.exact_dense
    query = engine.retriever.make_query("失业保险金领取期限和养老保险关系转移", "zh")
    for name in ("use", "e5"):
        hits = DenseRetriever(engine.embedders[name]).search(engine.index, query, 50, filters)
        expected = _brute_force(engine, name, query.text, filters, 50)
        assert [h.score for h in hits] == pytest.approx([score for _, score in expected], abs=1e-5)
        # the same passages (the order of exact ties aside)
        assert {h.passage.id for h in hits} == {pid for pid, _ in expected}
        assert all(passes(h.passage, filters) for h in hits)
