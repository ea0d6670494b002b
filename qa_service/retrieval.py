"""Retrievers and their fusion.

Each retriever is a small object with `search(query, k, filters) -> list[Hit]`.
Fusion is weighted reciprocal-rank fusion, with weights by question language
(BM25 over Chinese tokens only adds noise to an English question); exact
article references come first, ahead of anything fused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from corpus import ArticleRef, Passage, ReferenceParser
from ingest.embedders import Embedder
from ingest.live import LiveIndex
from ingest.store import chroma_where
from qa_service.expansion import expand
from qa_service.glossary import gloss_to_english

FilterDict = dict[str, list[str]]


@dataclass(frozen=True)
class Query:
    text: str  # normalised
    lang: str
    refs: tuple[ArticleRef, ...] = ()


@dataclass
class Hit:
    passage: Passage
    score: float
    # retriever name -> (1-based rank, that retriever's own score)
    found_by: dict[str, tuple[int, float]] = field(default_factory=dict)


class Retriever(Protocol):
    name: str

    def search(self, index: LiveIndex, query: Query, k: int, filters: FilterDict) -> list[Hit]: ...


def passes(passage: Passage, filters: FilterDict) -> bool:
    for name, allowed in filters.items():
        if getattr(passage, name) not in allowed:
            return False
    return True


class ReferenceRetriever:
    """Exact lookup of the articles a question names (第十九条, 社保法第58条, Art. 22)."""

    name = "reference"

    def search(self, index: LiveIndex, query: Query, k: int, filters: FilterDict) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[str] = set()
        for ref in query.refs:
            if ref.key is None or ref.key in seen:
                continue
            passage = index.passage(ref.key)
            if passage is None or not passes(passage, filters):
                continue
            seen.add(ref.key)
            hits.append(Hit(passage, 1.0, {self.name: (len(hits) + 1, 1.0)}))
        return hits[:k]


class DenseRetriever:
    """Nearest passages in one Chroma collection (cosine)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = embedder.name

    def search(self, index: LiveIndex, query: Query, k: int, filters: FilterDict) -> list[Hit]:
        collection = index.collections.get(self.name)
        if collection is None:
            return []
        vector = self.embedder.embed_query(query.text)
        result = collection.query(
            query_embeddings=[vector],
            n_results=min(k, index.record.passage_count),
            where=chroma_where(filters),
            include=["distances"],
        )
        hits = []
        for rank, (pid, distance) in enumerate(zip(result["ids"][0], result["distances"][0], strict=True), 1):
            key = index.key_of_id.get(pid)
            if key is None:
                continue
            similarity = 1.0 - float(distance)
            hits.append(Hit(index.passages[index.row_of[key]], similarity, {self.name: (rank, similarity)}))
        return hits


class LexicalRetriever:
    """BM25 over jieba tokens, in memory."""

    name = "lexical"

    def search(self, index: LiveIndex, query: Query, k: int, filters: FilterDict) -> list[Hit]:
        mask = index.filter_mask(filters) if filters else None
        return [
            Hit(index.passages[row], score, {self.name: (rank, score)})
            for rank, (row, score) in enumerate(index.lexical.search(expand(query.text), k, mask), 1)
        ]


class GlossRetriever:
    """A Chinese question glossed into English (qa_service.glossary), searched by
    another retriever among English passages only."""

    def __init__(self, base: Retriever) -> None:
        self.base = base
        self.name = f"{base.name}_gloss"

    def search(self, index: LiveIndex, query: Query, k: int, filters: FilterDict) -> list[Hit]:
        if query.lang != "zh":
            return []
        glossed = gloss_to_english(query.text)
        if not glossed:
            return []
        hits = self.base.search(index, Query(glossed, "en"), k, {**filters, "lang": ["en"]})
        return [
            Hit(h.passage, h.score, {self.name: (rank, h.found_by[self.base.name][1])})
            for rank, h in enumerate(hits, 1)
        ]


# Weights per (question language, passage language), tuned on eval/questions/dev.jsonl.
# BM25 and e5 barely cross languages and USE only weakly: a Chinese question
# reaches the English guidance through its glossed English words (the *_gloss runs).
Weights = dict[str, dict[str, float]]
DEFAULT_WEIGHTS: Weights = {
    "zh>zh": {"use": 1.0, "e5": 1.0, "lexical": 0.3},
    "zh>en": {"use": 1.0, "use_gloss": 1.0, "e5_gloss": 1.0, "lexical_gloss": 1.0},
    "en>zh": {"use": 1.0, "e5": 0.4, "lexical": 0.1},
    "en>en": {"use": 1.0, "e5": 1.0, "lexical": 0.1},
}


def reciprocal_rank_fusion(runs: dict[str, list[Hit]], weights: Weights | None, lang: str, k: int = 60) -> list[Hit]:
    """score(p) = sum over retrievers r of w[lang>lang(p)][r] / (k + rank_r(p)),
    with every weight 1 when `weights` is None (plain RRF).

    Builds new Hit objects; the input hits are left untouched. Ties are broken by key."""
    fused: dict[str, Hit] = {}
    for name, hits in runs.items():
        for hit in hits:
            weight = 1.0 if weights is None else weights.get(f"{lang}>{hit.passage.lang}", {}).get(name, 0.0)
            rank, score = hit.found_by[name]
            entry = fused.setdefault(hit.passage.key, Hit(hit.passage, 0.0, {}))
            entry.found_by[name] = (rank, score)
            entry.score += weight / (k + rank)
    return sorted(fused.values(), key=lambda h: (-h.score, h.passage.key))


@dataclass
class HybridResult:
    hits: list[Hit]
    # best cosine of the question against any passage, per dense retriever
    top_similarity: dict[str, float]
    references: list[ArticleRef]


class HybridRetriever:
    def __init__(
        self,
        embedders: list[Embedder],
        parser: ReferenceParser,
        candidates: int = 50,
        rrf_k: int = 60,
        weights: Weights | None = None,
    ) -> None:
        if candidates <= 0:
            raise ValueError(f"candidates must be positive, got {candidates}")
        self.parser = parser
        self.reference = ReferenceRetriever()
        self.dense = [DenseRetriever(e) for e in embedders]
        self.lexical = LexicalRetriever()
        self.gloss: list[Retriever] = [GlossRetriever(r) for r in [*self.dense, self.lexical]]
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.weights = weights or DEFAULT_WEIGHTS

    @property
    def retriever_names(self) -> list[str]:
        return [self.reference.name, self.lexical.name, *(d.name for d in self.dense)]

    def make_query(self, text: str, lang: str) -> Query:
        return Query(text, lang, tuple(self.parser.parse(text)))

    @staticmethod
    def _linked(index: LiveIndex, exact: list[Hit], filters: FilterDict) -> list[Hit]:
        """After the articles a question names, the articles linked to them (the
        rules that apply an article, the articles it refers to): what an agent
        looking up an article needs next."""
        named = {h.passage.key for h in exact}
        linked: list[Hit] = []
        for hit in exact:
            links = index.links.get(hit.passage.key, {})
            for key in [*links.get("referred_by", []), *links.get("refers_to", [])]:
                passage = index.passage(key)
                if passage is None or key in named or not passes(passage, filters):
                    continue
                named.add(key)
                linked.append(Hit(passage, 0.5, {"link": (len(linked) + 1, 1.0)}))
        return linked

    def search(
        self,
        index: LiveIndex,
        query: Query,
        top_k: int,
        filters: FilterDict,
        only: list[str] | None = None,
    ) -> HybridResult:
        retrievers: list[Retriever] = [self.lexical, *self.dense, *self.gloss]
        if only is not None:
            retrievers = [r for r in retrievers if r.name in only]
        runs = {r.name: r.search(index, query, self.candidates, filters) for r in retrievers}
        top_similarity = {d.name: runs[d.name][0].score for d in self.dense if runs.get(d.name)}
        # a chosen subset of retrievers (a baseline) is fused unweighted
        fused = reciprocal_rank_fusion(runs, self.weights if only is None else None, query.lang, self.rrf_k)
        exact = [] if only is not None and "reference" not in only else self.reference.search(index, query, top_k, filters)
        exact += self._linked(index, exact, filters)
        exact_keys = {h.passage.key for h in exact}
        fused_by_key = {h.passage.key: h for h in fused}
        for hit in exact:
            hit.score = 1.0 + hit.score  # above any fused score (at most ~sum(w)/(k+1))
            if (other := fused_by_key.get(hit.passage.key)) is not None:
                hit.found_by.update(other.found_by)
        hits = exact + [h for h in fused if h.passage.key not in exact_keys]
        return HybridResult(hits[:top_k], top_similarity, list(query.refs))
