"""Whether a passage restates a rule the answer already quotes, and which of
two documents prevails when both state it (a law over an older regulation),
from the manifest's kind and date, never from a per-article rule."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from corpus import DocumentInfo, Passage
from ingest.live import LiveIndex
from qa_service.situation import to_arabic

if TYPE_CHECKING:
    from qa_service.quotes import Quote

RESTATEMENT = 0.86  # USE cosine above which two sentences may state the same rule
SAME_WORDING = 0.75  # and the share of character bigrams each must share with the other to be one rule
KIND_RANK = {"law": 0, "administrative regulation": 1, "departmental rule": 2, "normative document": 3, "guidance": 4}


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", to_arabic(text)))


def restated(
    vectors: np.ndarray, texts: Sequence[str], taken: list[tuple[str, np.ndarray, str]], quotes: list[Quote]
) -> tuple[str, bool] | None:
    """(key of the passage already quoted that states the same rule, whether
    with the same figures), or None when the sentences (`texts`, with their USE
    `vectors`) state something new: every one must have a counterpart already
    quoted, close by USE and sharing most of its wording both ways. With
    different figures it is quoted: the answer then says which document prevails."""
    if not taken:
        return None
    quoted = np.stack([v for _, v, _ in taken])
    match = None
    for vector, text in zip(vectors, texts, strict=True):
        sims = quoted @ vector
        best = int(np.argmax(sims))
        counterpart = taken[best][2]
        # USE puts different rules on one subject close together (who pays vs. what
        # if the employer does not pay: 0.92); one rule also shares its wording both
        # ways (SIL 46 and 失业保险条例 17, tier by tier: ≥ 0.8; SIL 47 and the
        # regulation's art. 18, which adds the minimum wage: 0.68)
        if float(sims[best]) < RESTATEMENT or min(_bigram_overlap(text, counterpart), _bigram_overlap(counterpart, text)) < SAME_WORDING:
            return None
        match = taken[best][0]
    if match is None:
        return None
    our_text = "".join(s.text for q in quotes if q.passage.key == match for s in q.sentences)
    return match, _numbers("".join(texts)) <= _numbers(our_text)


def _bigram_overlap(a: str, b: str) -> float:
    """Share of a's character bigrams (numerals as digits) found in b."""
    grams = lambda t: {t[i : i + 2] for i in range(len(t) - 1)}  # noqa: E731
    ours, theirs = grams(to_arabic(a)), grams(to_arabic(b))
    return len(ours & theirs) / len(ours) if ours else 0.0


def precedence(doc: DocumentInfo) -> tuple[int, int]:
    """Sort key of which document prevails: the higher kind of source, then the later one."""
    return KIND_RANK.get(doc.kind, 9), -int((doc.effective or "0")[:4])


def prevails(a: Passage, b: Passage | None, index: LiveIndex) -> bool:
    """Whether a's document prevails over b's."""
    if b is None or a.doc_id == b.doc_id:
        return False
    docs = {d.doc_id: d for d in index.manifest.documents}
    return precedence(docs[a.doc_id]) < precedence(docs[b.doc_id])
