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

_ZH_END = "。！？；!?;"
_BOUNDARY = re.compile(rf"(?<=[{_ZH_END}])|\n+|(?<=[A-Za-z)][.!?])\s+")


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
    sentences: list[Sentence] = []
    cursor = body_start
    pieces = [m.end() for m in _BOUNDARY.finditer(text, body_start)] + [len(text)]
    for boundary in pieces:
        if boundary <= cursor:
            continue
        raw = text[cursor:boundary]
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            start = cursor + lead
            end = start + len(stripped)
            sentences.append(
                Sentence(passage.key, len(sentences), passage.start + start, passage.start + end, stripped)
            )
        cursor = boundary
    return sentences
