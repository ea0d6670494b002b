"""Extractive answers: the sentences that answer, quoted verbatim with their
offsets. This is the one place that builds citations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus import Passage
from corpus.guidance import section_title
from corpus.numerals import to_chinese
from corpus.sentences import Sentence
from ingest.sentence_index import QUOTE_EMBEDDER
from ingest.live import LiveIndex
from qa_service.retrieval import Hit
from qa_service.schemas import Citation, SeeAlso

def source_label(passage: Passage, lang: str) -> str:
    """How the answer text names a passage: the English title and article number
    for English questions, even when the quoted law is Chinese."""
    if lang == "zh":
        title = passage.title.replace("《", "〈").replace("》", "〉")  # a title inside 《》 nests as 〈〉
        if passage.article is not None:
            return f"《{title}》第{to_chinese(passage.article)}条"
        return f"《{title}》（{section_title(passage.section or '')}）"
    if passage.article is not None:
        return f"Article {passage.article} of the {passage.title_en}"
    return f"“{passage.title_en}” ({section_title(passage.section or '')})"


@dataclass
class Quote:
    passage: Passage
    start: int
    end: int
    score: float


def _merge(sentences: list[tuple[Sentence, float]], source: str) -> list[tuple[int, int, float]]:
    """Adjacent sentences of one paragraph become one quote."""
    spans: list[tuple[int, int, float]] = []
    for sentence, score in sorted(sentences, key=lambda x: x[0].start):
        if spans and "\n" not in source[spans[-1][1] : sentence.start] and sentence.start - spans[-1][1] <= 1:
            start, _, best = spans[-1]
            spans[-1] = (start, sentence.end, max(best, score))
        else:
            spans.append((sentence.start, sentence.end, score))
    return spans


def whole_article_quote(passage: Passage, index: LiveIndex) -> Quote:
    rows = index.sentence_rows.get(passage.key, [])
    if not rows:
        return Quote(passage, passage.start, passage.end, 1.0)
    return Quote(passage, index.sentences[rows[0]].start, index.sentences[rows[-1]].end, 1.0)


def select_quotes(
    hits: list[Hit],
    query_vector: np.ndarray | None,
    index: LiveIndex,
    max_passages: int,
    max_sentences: int,
    max_gap: float = 0.12,
) -> list[Quote]:
    """The sentences that answer: the best sentence of the top passage always,
    then other sentences close to the best score, at most two per passage."""
    exact = [h for h in hits if "reference" in h.found_by]
    if exact:
        return [whole_article_quote(h.passage, index) for h in exact[:max_passages]]
    candidates = hits[:max_passages]
    if not candidates:
        return []
    scored: list[tuple[int, Sentence, float]] = []
    for rank, hit in enumerate(candidates, 1):
        rows = index.sentence_rows.get(hit.passage.key, [])
        if not rows:
            continue
        vectors = index.sentence_vectors.get(QUOTE_EMBEDDER)
        if query_vector is not None and vectors is not None:
            sims = vectors[rows] @ query_vector
        else:
            sims = np.zeros(len(rows))
        for row, sim in zip(rows, sims, strict=True):
            # a prior for the passage's fused rank: retrieval saw more than one sentence
            scored.append((rank, index.sentences[row], float(sim) + 0.08 / rank))
    if not scored:
        return [Quote(candidates[0].passage, candidates[0].passage.start, candidates[0].passage.end, candidates[0].score)]
    scored.sort(key=lambda x: -x[2])
    best = scored[0][2]
    chosen: dict[int, list[tuple[Sentence, float]]] = {}
    top_rank_best = max((x for x in scored if x[0] == 1), key=lambda x: x[2], default=None)
    if top_rank_best is not None:
        chosen.setdefault(1, []).append((top_rank_best[1], top_rank_best[2]))
    for rank, sentence, score in scored:
        total = sum(len(v) for v in chosen.values())
        if total >= max_sentences:
            break
        if score < best - max_gap or any(s is sentence for s, _ in chosen.get(rank, [])):
            continue
        if len(chosen.get(rank, [])) >= 2:
            continue
        chosen.setdefault(rank, []).append((sentence, score))
    quotes: list[Quote] = []
    for rank in sorted(chosen):
        passage = candidates[rank - 1].passage
        source = index.source_text(passage)
        for start, end, score in _merge(chosen[rank], source):
            quotes.append(Quote(passage, start, end, score))
    return quotes


def build_citations(quotes: list[Quote], index: LiveIndex) -> list[Citation]:
    """Citations whose quote is verbatim at its offsets in the source file; others are dropped."""
    citations: list[Citation] = []
    for quote in quotes:
        passage = quote.passage
        text = index.source_text(passage)[quote.start : quote.end]
        if not text or not (passage.start <= quote.start < quote.end <= passage.end):
            continue
        # the file the version was built from and the indexed passage must agree at these offsets
        if passage.text[quote.start - passage.start : quote.end - passage.start] != text:
            continue
        citations.append(
            Citation(
                **passage_fields(passage),
                marker=len(citations) + 1,
                doc_id=passage.doc_id,
                quote=text,
                start=quote.start,
                end=quote.end,
                file=passage.file,
                score=round(quote.score, 4),
            )
        )
    return citations


def compose_answer(citations: list[Citation], passages: dict[str, Passage], lang: str) -> str:
    """One line per cited passage: its name, then the quotes with their markers."""
    lines: list[str] = []
    by_key: dict[str, list[Citation]] = {}
    for citation in citations:
        by_key.setdefault(citation.key, []).append(citation)
    for key, group in by_key.items():
        label = source_label(passages[key], lang)
        if lang == "zh":
            body = "".join(f"{c.quote}[{c.marker}]" for c in group)
            lines.append(f"根据{label}：{body}")
        else:
            body = " ".join(f"“{c.quote}” [{c.marker}]" for c in group)
            lines.append(f"{label}: {body}")
    return "\n".join(lines)


def passage_fields(passage: Passage) -> dict[str, object]:
    """The fields every response names a passage by."""
    return {
        "key": passage.key,
        "title": passage.title,
        "title_en": passage.title_en,
        "article": passage.article,
        "chapter": passage.chapter,
        "section": passage.section,
    }


def see_also(hits: list[Hit], n: int = 3) -> list[SeeAlso]:
    return [SeeAlso(**passage_fields(h.passage), score=round(h.score, 4)) for h in hits[:n]]
