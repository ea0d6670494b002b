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
from qa_service.lexicon import expand, gloss_to_chinese, gloss_to_english

FilterDict = dict[str, list[str]]


@dataclass(frozen=True)
class Query:
    text: str  # normalised
    lang: str
    refs: tuple[ArticleRef, ...] = ()
    glossed: bool = False  # already in the statutes' terms: no colloquial expansion


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


def _ranked_hits(index: LiveIndex, name: str, scores: np.ndarray, rows: np.ndarray, k: int) -> list[Hit]:
    """The k best of `scores` (one per row of `rows`), best first, ties by row."""
    k = min(k, len(rows))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    ranked = sorted(top.tolist(), key=lambda i: (-scores[i], rows[i]))
    return [
        Hit(index.passages[rows[i]], float(scores[i]), {name: (rank, float(scores[i]))})
        for rank, i in enumerate(ranked, 1)
    ]


def scores_of_rows(vectors: np.ndarray, rows: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """`vectors[rows] @ unit`, one slice per run of consecutive rows: passages
    are stored by document and chapter, so a filter's rows are a few runs, and
    a slice of the memory map is read in place where fancy indexing would copy
    every matching row first."""
    if not len(rows):
        return np.zeros(0, dtype=np.float32)
    starts = np.flatnonzero(np.diff(rows, prepend=rows[0] - 2) != 1)
    ends = np.append(starts[1:], len(rows))
    return np.concatenate([vectors[rows[a] : rows[b - 1] + 1] @ unit for a, b in zip(starts, ends, strict=True)])


class DenseRetriever:
    """Nearest passages by cosine: Chroma's HNSW index; a filtered query, and any
    query on a small corpus in embedded Chroma (LiveIndex.exact_dense), scores the
    passages exactly against the version's memory-mapped passage vectors instead
    (Chroma's filtered search slows with the corpus)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = embedder.name

    def search(self, index: LiveIndex, query: Query, k: int, filters: FilterDict) -> list[Hit]:
        collection = index.collections.get(self.name)
        if collection is None:
            return []
        vector = self.embedder.embed_query(query.text)
        vectors = index.passage_vectors.get(self.name)
        if (filters or index.exact_dense) and vectors is not None:
            unit = np.asarray(vector, dtype=np.float32) / (np.linalg.norm(vector) or 1.0)
            if filters:  # only the matching rows are read
                rows = np.flatnonzero(index.filter_mask(filters))
                return _ranked_hits(index, self.name, scores_of_rows(vectors, rows, unit), rows, k)
            return _ranked_hits(index, self.name, vectors @ unit, np.arange(len(index.passages)), k)
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
            for rank, (row, score) in enumerate(
                index.lexical.search(query.text if query.glossed else expand(query.text), k, mask), 1
            )
        ]


class BestRowRetriever:
    """Passages ranked by their best-matching row of a table embedded at ingest
    (exact cosine, in memory):
    - "sentences": a long article that covers several things is not diluted into one vector;
    - "questions": the questions a passage answers (ingest.passage_questions), asked
      the way visitors ask, meet a visitor's question where the statute's wording does not."""

    def __init__(self, embedder: Embedder, table: str) -> None:
        self.embedder = embedder
        self.table = table
        self.name = f"{embedder.name}_{table}"

    def search(self, index: LiveIndex, query: Query, k: int, filters: FilterDict) -> list[Hit]:
        vectors_by_model, passage_of_row = index.row_table(self.table)
        vectors = vectors_by_model.get(self.embedder.name)
        if vectors is None or not len(vectors):
            return []
        similarity = vectors @ np.asarray(self.embedder.embed_query(query.text), dtype=np.float32)
        best = np.full(len(index.passages), -np.inf, dtype=np.float32)
        np.maximum.at(best, passage_of_row, similarity)
        rows = np.flatnonzero(np.isfinite(best) & (index.filter_mask(filters) if filters else True))
        return _ranked_hits(index, self.name, best[rows], rows, k)


class GlossRetriever:
    """A question glossed into the other language (qa_service.lexicon), searched
    by another retriever among that language's passages only: Chinese questions
    reach the English guidance, English questions meet the Chinese statutes'
    own words."""

    def __init__(self, base: Retriever, target: str) -> None:
        self.base = base
        self.target = target
        self.source = "zh" if target == "en" else "en"
        self.gloss = gloss_to_english if target == "en" else gloss_to_chinese
        self.name = f"{base.name}_gloss_{target}"

    def search(self, index: LiveIndex, query: Query, k: int, filters: FilterDict) -> list[Hit]:
        if query.lang != self.source:
            return []
        glossed = self.gloss(query.text)
        if not glossed:
            return []
        hits = self.base.search(index, Query(glossed, self.target, glossed=True), k, {**filters, "lang": [self.target]})
        return [
            Hit(h.passage, h.score, {self.name: (rank, h.found_by[self.base.name][1])})
            for rank, h in enumerate(hits, 1)
        ]


# Weights per (question language, passage language), tuned on eval/questions/dev.jsonl.
# BM25 and e5 barely cross languages and USE only weakly, so a question also
# runs glossed into the other language (the *_gloss_* runs): a Chinese question
# reaches the English guidance, an English one the Chinese statutes' terms.
# e5 ranks a passage better by its best sentence than by its whole text, and
# best of all by the questions the passage answers (*_questions, in both languages).
# e5 over an English question's Chinese gloss (weight 0.3) added nothing on the
# development set and ±0.008 on the consultation tuning part, for a second e5
# embedding (~25 ms of CPU) per English question: it is not run.
# The passage questions weigh most since each passage has eleven, everyday English
# and consultation-style Chinese among them: from (0.5, 1) to (3, 6) the development
# set's recall@5 rose 0.927 -> 0.971 and the consultation tuning part's 0.802 -> 0.835
# (MRR@10 0.849 -> 0.893, 0.815 -> 0.874); higher weights gained nothing more on either.
Weights = dict[str, dict[str, float]]
_QUESTIONS = {"use_questions": 3.0, "e5_questions": 6.0}
DEFAULT_WEIGHTS: Weights = {
    "zh>zh": {"use": 0.5, "e5_sentences": 1.0, "lexical": 0.3, **_QUESTIONS},
    "zh>en": {"use": 1.0, "use_gloss_en": 1.0, "e5_gloss_en": 1.0, "lexical_gloss_en": 1.0, **_QUESTIONS},
    "en>zh": {
        "use": 1.0, "use_sentences": 0.6, "e5": 0.2, "e5_sentences": 0.8, "lexical": 0.1,
        "lexical_gloss_zh": 1.0, **_QUESTIONS,
    },
    "en>en": {"use": 1.0, "use_sentences": 0.6, "e5": 1.0, "e5_sentences": 1.0, "lexical": 0.1, **_QUESTIONS},
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
        self.best_rows = [BestRowRetriever(e, table) for table in ("sentences", "questions") for e in embedders]
        self.lexical = LexicalRetriever()
        self.gloss: list[Retriever] = [
            GlossRetriever(r, target) for target in ("en", "zh") for r in [*self.dense, self.lexical]
        ]
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
        retrievers: list[Retriever] = [self.lexical, *self.dense, *self.best_rows, *self.gloss]
        if only is not None:
            retrievers = [r for r in retrievers if r.name in only]
        else:  # a run that no passage language weighs for this question is not worth its time
            weighed = {name for pair, w in self.weights.items() if pair.startswith(f"{query.lang}>") for name, x in w.items() if x}
            retrievers = [r for r in retrievers if r.name in weighed]
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
