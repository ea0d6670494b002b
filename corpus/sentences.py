"""Sentences of a passage, with offsets in the source file, for extractive answers.

A sentence ends at 。！？；, at a line break, or (English) at . ! ? before a
space. The article heading "第十九条　" is not part of the first sentence, so a
quote reads as the law's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.passage import Passage
from corpus.statute import ARTICLE

_STOPS = "。！？!?"
_BRANCH = "；;"
_CLOSERS = "”’」』）)\"'"


def _boundary(semicolons: bool) -> re.Pattern[str]:
    ends = _STOPS + (_BRANCH if semicolons else "")
    # after a stop and any closing quotes or brackets; at line breaks; after an
    # English full stop before a space (after a word, a bracket or a [n] marker;
    # not "1." of a numbered step)
    return re.compile(rf"[{ends}]+[{_CLOSERS}]*|\n+|(?<=[A-Za-z)\]】][.!?])[{_CLOSERS}]*\s+")


# passages split at ；too: each branch of a tiered rule is a sentence of its own (corpus.structure)
_PASSAGE_BOUNDARY = _boundary(semicolons=True)
_TEXT_BOUNDARY = _boundary(semicolons=False)


def sentence_spans(text: str, start: int = 0, *, semicolons: bool = True) -> list[tuple[int, int]]:
    """(start, end) of every sentence of `text` from `start` on, surrounding
    white space left out. The one splitter of the project: passages here, the
    LLM mode's replies (qa_service.llm, without splitting at ；) alike."""
    boundary = _PASSAGE_BOUNDARY if semicolons else _TEXT_BOUNDARY
    spans: list[tuple[int, int]] = []
    cursor = start
    for boundary_end in [m.end() for m in boundary.finditer(text, start)] + [len(text)]:
        if boundary_end <= cursor:
            continue
        raw = text[cursor:boundary_end]
        stripped = raw.strip()
        if stripped:
            first = cursor + len(raw) - len(raw.lstrip())
            spans.append((first, first + len(stripped)))
        cursor = boundary_end
    return spans


@dataclass(frozen=True)
class Sentence:
    key: str  # passage key
    index: int  # position within the passage
    start: int  # offsets in the source file
    end: int
    text: str


def split_sentences(passage: Passage) -> list[Sentence]:
    text = passage.text
    body_start = 0
    if passage.article is not None and (heading := ARTICLE.match(text)):
        body_start = heading.end()
    return [
        Sentence(passage.key, n, passage.start + start, passage.start + end, text[start:end])
        for n, (start, end) in enumerate(sentence_spans(text, body_start))
    ]
