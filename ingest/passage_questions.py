"""Questions each passage answers, written for the corpus (document expansion,
doc2query-style): a visitor's question is matched against questions asked the
way visitors ask, not only against the statute's wording.

`passage_questions.jsonl` holds, per passage, its key, the hash of the passage
it was written for, and questions in Chinese and English. They were drafted
from the passage texts alone (never from any evaluation question) and read
through by hand. An entry whose passage has changed or gone is stale: ingest
leaves it out and says so, rather than let old questions point at new text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

from corpus import Passage
from ingest.data_files import read_entries
from ingest.embedders import Embedder
from ingest.vector_table import VectorTable, read_rows, read_vectors, write_table

QUESTIONS = VectorTable("questions", is_query=True)  # question to question: both sides are queries


class PassageQuestionsError(ValueError):
    """The questions file is malformed; the message names file and line."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    hash: str
    zh: list[str] = []
    en: list[str] = []

    @field_validator("zh", "en")
    @classmethod
    def _not_blank(cls, value: list[str]) -> list[str]:
        if any(not q.strip() for q in value):
            raise ValueError("a question is empty")
        return value


@dataclass(frozen=True)
class PassageQuestion:
    key: str
    lang: str
    text: str


@dataclass(frozen=True)
class QuestionSet:
    questions: list[PassageQuestion]
    stale: list[str]  # keys whose entry was written for another text of the passage, or a passage now gone


def load_passage_questions(path: Path | None, passages: list[Passage]) -> QuestionSet:
    """The questions that still fit `passages`, in passage order; no file, no questions."""
    if path is None or not path.exists():
        return QuestionSet([], [])
    entries = read_entries(path, _Entry, lambda e: e.key, PassageQuestionsError, "{key}")
    current = {p.key: p.hash for p in passages}
    stale = sorted(key for key, entry in entries.items() if current.get(key) != entry.hash)
    questions = [
        PassageQuestion(p.key, lang, text)
        for p in passages
        if (entry := entries.get(p.key)) is not None and entry.hash == p.hash
        for lang, texts in (("zh", entry.zh), ("en", entry.en))
        for text in texts
    ]
    return QuestionSet(questions, stale)


def write_question_index(
    folder: Path, questions: list[PassageQuestion], embedders: list[Embedder], previous: Path | None, progress: bool
) -> int:
    """Returns how many question embeddings were computed (not reused from `previous`)."""
    return write_table(
        folder, QUESTIONS, [asdict(q) for q in questions], [q.text for q in questions], embedders, previous, progress
    )


def read_question_index(folder: Path, embedders: list[str]) -> tuple[list[PassageQuestion], dict[str, np.ndarray]]:
    questions = [PassageQuestion(r["key"], r["lang"], r["text"]) for r in read_rows(folder, QUESTIONS)]
    return questions, read_vectors(folder, QUESTIONS, embedders)
