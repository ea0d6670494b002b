"""The question-answering engine: one object the API, the CLI and eval share.

`QAEngine.load()` opens the live index and warms the models once; requests
then only embed the question. Each request reads `self.index` once, so its
answer comes wholly from one index version even while a re-ingest switches
versions underneath.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
from chromadb.api import ClientAPI

from corpus import ReferenceParser
from ingest.embedders import Embedder, make_embedder
from ingest.live import LiveIndex, open_live
from ingest.sentence_index import QUOTE_EMBEDDER
from ingest.store import open_chroma
from ingest.version import current_build_id
from qa_service.answer import build_citations, compose_answer, passage_fields, see_also, select_quotes
from qa_service.refusal import decide, refusal_message
from qa_service.llm import make_answerer
from qa_service.normalize import detect_lang, normalize_question
from qa_service.quotes import question_parts
from qa_service.retrieval import HybridRetriever
from qa_service.schemas import (
    AskRequest,
    AskResponse,
    Filters,
    RetrieverRank,
    SearchRequest,
    SearchResponse,
    SearchResult,
)
from qa_service.settings import ServiceSettings


class UnknownFilter(ValueError):
    pass


@dataclass
class Prepared:
    index: LiveIndex
    text: str
    lang: str


class QAEngine:
    def __init__(self, settings: ServiceSettings, client: ClientAPI, index: LiveIndex, embedders: list[Embedder]) -> None:
        self.settings = settings
        self.client = client
        self.index = index
        self.embedders = {e.name: e for e in embedders}
        self.retriever = HybridRetriever(
            embedders, ReferenceParser(index.manifest), settings.candidates, settings.rrf_k
        )
        self._reload_lock = threading.Lock()
        self._last_check = time.monotonic()
        self._filter_values: tuple[str, dict[str, set[str]]] | None = None
        self.llm = make_answerer(settings)  # None unless an OpenAI-compatible endpoint is configured

    @classmethod
    def load(cls, settings: ServiceSettings | None = None) -> QAEngine:
        settings = settings or ServiceSettings()
        client = open_chroma(settings)
        index = open_live(settings, client)
        embedders = [make_embedder(name, settings) for name in index.record.embedders]
        for embedder in embedders:
            embedder.warm_up()
        return cls(settings, client, index, embedders)

    # -- index versions -------------------------------------------------
    def maybe_reload(self) -> bool:
        """Switch to a newer complete index version if ingest published one."""
        now = time.monotonic()
        if now - self._last_check < self.settings.reload_check_s:
            return False
        self._last_check = now
        latest = current_build_id(self.settings.index_dir)
        if latest is None or latest == self.index.build_id:
            return False
        with self._reload_lock:
            if latest == self.index.build_id:
                return False
            fresh = open_live(self.settings, self.client, latest)
            if set(fresh.record.embedders) - set(self.embedders):
                return False  # needs a model this process has not loaded: restart to use it
            self.retriever.parser = ReferenceParser(fresh.manifest)
            self.index = fresh
            return True

    def ping(self) -> None:
        """Raise if Chroma is unreachable."""
        self.client.heartbeat()

    # -- shared steps ---------------------------------------------------
    def _prepare(self, text: str) -> Prepared:
        self.maybe_reload()
        normalized = normalize_question(text)
        return Prepared(self.index, normalized, detect_lang(normalized))

    def _filters(self, filters: Filters | None, index: LiveIndex) -> dict[str, list[str]]:
        values = filters.as_dict() if filters else {}
        if not values:
            return values
        known = self._known_filter_values(index)
        for name, wanted in values.items():
            unknown = [v for v in wanted if v not in known[name]]
            if unknown:
                raise UnknownFilter(f"unknown {name} in filters: {', '.join(unknown)}")
        return values

    def _known_filter_values(self, index: LiveIndex) -> dict[str, set[str]]:
        """The values each filter accepts, computed once per index version: the
        chapters are a pass over every passage (100k passages: milliseconds a request)."""
        cached = self._filter_values
        if cached is not None and cached[0] == index.build_id:
            return cached[1]
        known = {
            "doc_id": {d.doc_id for d in index.manifest.documents},
            "kind": {d.kind for d in index.manifest.documents},
            "chapter": {p.chapter for p in index.passages if p.chapter},
        }
        self._filter_values = (index.build_id, known)
        return known

    def _query_vector(self, text: str) -> np.ndarray | None:
        """USE vector of the question; for a message asking several questions, a
        row for the whole message and one for each question (quotes.question_parts)."""
        embedder = self.embedders.get(QUOTE_EMBEDDER)
        if embedder is None:
            return None
        whole = np.asarray(embedder.embed_query(text), dtype=np.float32)
        parts = question_parts(text)
        if not parts:
            return whole
        return np.vstack([whole, np.asarray(embedder.embed_documents(parts), dtype=np.float32)])

    # -- public API -----------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        prepared = self._prepare(request.query)
        filters = self._filters(request.filters, prepared.index)
        query = self.retriever.make_query(prepared.text, prepared.lang)
        result = self.retriever.search(prepared.index, query, request.top_k, filters)
        return SearchResponse(
            query=request.query,
            lang=prepared.lang,
            results=[
                SearchResult(
                    **passage_fields(h.passage),
                    doc_id=h.passage.doc_id,
                    kind=h.passage.kind,
                    text=h.passage.text,
                    start=h.passage.start,
                    end=h.passage.end,
                    score=round(h.score, 6),
                    found_by=[RetrieverRank(retriever=n, rank=r, score=round(s, 4)) for n, (r, s) in h.found_by.items()],
                )
                for h in result.hits
            ],
            corpus_version=prepared.index.corpus_version,
            index_version=prepared.index.build_id,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def search_keys(self, query: str, top_k: int, retrievers: list[str]) -> list[str]:
        """Ranking from a subset of retrievers ('reference', 'lexical', 'use', 'e5'): for baselines."""
        prepared = self._prepare(query)
        parsed = self.retriever.make_query(prepared.text, prepared.lang)
        result = self.retriever.search(prepared.index, parsed, top_k, {}, only=retrievers)
        return [h.passage.key for h in result.hits]

    def ask(self, request: AskRequest) -> AskResponse:
        started = time.perf_counter()
        prepared = self._prepare(request.question)
        index, lang = prepared.index, prepared.lang
        filters = self._filters(request.filters, index)
        query = self.retriever.make_query(prepared.text, lang)
        top_k = max(request.top_k, self.settings.answer_passages)
        result = self.retriever.search(index, query, top_k, filters)
        decision = decide(prepared.text, lang, result, index, self.embedders, self.settings)
        common = {
            "question": request.question,
            "lang": lang,
            "corpus_version": index.corpus_version,
            "index_version": index.build_id,
            "partial": decision.partial,
            "uncovered": decision.uncovered_names(lang),
        }
        if decision.refuse:
            return AskResponse(
                **common,
                answer=refusal_message(decision.reason or "out_of_scope", lang, **(decision.detail or {})),
                refused=True,
                refusal_reason=decision.reason,
                citations=[],
                see_also=[] if decision.reason == "instructions" else see_also(result.hits),
                took_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        query_vector = self._query_vector(prepared.text)
        if self.llm is not None:
            generated = self.llm.answer(prepared.text, lang, result.hits, query_vector, index, self.retriever.parser)
            if generated is not None:  # else (endpoint failed, nothing verified): the extractive answer
                cited = {c.key for c in generated.citations}
                return AskResponse(
                    **common,
                    answer=generated.answer,
                    refused=False,
                    citations=generated.citations,
                    see_also=see_also([h for h in result.hits if h.passage.key not in cited]),
                    mode="llm",
                    took_ms=round((time.perf_counter() - started) * 1000, 2),
                )
        quotes = select_quotes(
            result.hits,
            query_vector,
            index,
            self.settings.answer_passages,
            self.settings.answer_sentences,
            self.settings.answer_gap,
            question=prepared.text,
        )
        citations = build_citations(quotes, index, lang)
        passages = {q.passage.key: q.passage for q in quotes}
        return AskResponse(
            **common,
            answer=compose_answer(citations, passages, lang, prepared.text, index),
            refused=False,
            citations=citations,
            see_also=see_also([h for h in result.hits if h.passage.key not in {c.key for c in citations}]),
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )
