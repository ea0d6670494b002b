"""The field's lexicon: one data file (`lexicon.jsonl`), three tables, matched by longest match.

- `colloquial`: everyday Chinese words -> the statutes' own terms, appended to a
  Chinese query for BM25, which only matches words that are literally there
  (社保局 -> 社会保险经办机构, 断缴 -> 中断 缴费);
- `zh_en`: Chinese terms -> the English words the guidance uses, so that a
  Chinese question can reach the one English document;
- `en_zh`: English words -> the statutes' Chinese terms, so that an English
  question can reach the Chinese statutes through BM25.

Longest match, left to right, without overlap (pyahocorasick): 社保局 is one
term, not 社保局 and 社保; "unemployment benefits" is one phrase, and its
"benefits" is not glossed again. English matches whole words only ("fund" is
not in "refund"). The data is general vocabulary of the field, never tied to
a question; `unknown_targets` lists the statutory terms that do not occur in
the corpus (a test keeps that list empty).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import ahocorasick
from pydantic import BaseModel, ConfigDict, Field

from ingest.data_files import read_entries

LEXICON_FILE = Path(__file__).resolve().parent / "lexicon.jsonl"
TABLES = ("colloquial", "zh_en", "en_zh")
MIN_TERMS = 2  # one shared word is not enough evidence (for the guidance, for a glossed query)
_EN_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class LexiconError(ValueError):
    """The lexicon file is malformed; the message is `file:line: reason`."""


class LexiconEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    table: Literal["colloquial", "zh_en", "en_zh"]
    term: str = Field(min_length=1, pattern=r"\S")
    adds: str = Field(min_length=1, pattern=r"\S")


def _en_needle(words: Iterable[str]) -> str:
    # words joined by two spaces and padded by one: a match ends inside the gap,
    # so the next word keeps the space it starts with
    return " " + "  ".join(words) + " "


@dataclass(frozen=True)
class Table:
    entries: tuple[LexiconEntry, ...]
    automaton: ahocorasick.Automaton
    english: bool

    @classmethod
    def build(cls, entries: list[LexiconEntry], english: bool) -> Table:
        automaton = ahocorasick.Automaton()
        for position, entry in enumerate(entries):
            needle = _en_needle(_EN_WORD.findall(entry.term.lower())) if english else entry.term
            automaton.add_word(needle, position)
        if entries:
            automaton.make_automaton()
        return cls(tuple(entries), automaton, english)

    def matches(self, text: str) -> list[LexiconEntry]:
        """The entries found in `text` by longest match (no overlaps), each once, in file order."""
        if not self.entries:
            return []
        haystack = _en_needle(_EN_WORD.findall(text.lower())) if self.english else text
        return [self.entries[p] for p in sorted({p for _, p in self.automaton.iter_long(haystack)})]

    def as_dict(self) -> dict[str, str]:
        return {e.term: e.adds for e in self.entries}


@dataclass(frozen=True)
class Lexicon:
    colloquial: Table
    zh_en: Table
    en_zh: Table

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> Lexicon:
        try:
            entries = read_entries(
                path, LexiconEntry, lambda e: f"{e.table}:{e.term.casefold()}", LexiconError, "term {key}"
            )
        except FileNotFoundError:
            raise LexiconError(f"{path}: no such file") from None
        except UnicodeDecodeError as exc:
            raise LexiconError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
        by_table: dict[str, list[LexiconEntry]] = {t: [] for t in TABLES}
        for entry in entries.values():
            by_table[entry.table].append(entry)
        return cls(*(Table.build(by_table[t], english=t == "en_zh") for t in TABLES))

    def expand(self, text: str) -> str:
        """A Chinese query followed by the statute terms of its colloquial words."""
        extra = [e.adds for e in self.colloquial.matches(text)]
        return f"{text} {' '.join(extra)}" if extra else text

    def gloss_to_english(self, text: str) -> str:
        """The English words for the field's Chinese terms in `text`; empty unless
        at least MIN_TERMS terms occur."""
        found = [e.adds for e in self.zh_en.matches(text)]
        return " ".join(found) if len(found) >= MIN_TERMS else ""

    def gloss_to_chinese(self, text: str) -> str:
        """The statutes' Chinese terms for the field's English words in `text`, the
        longest phrase first; empty unless at least MIN_TERMS terms occur (one term
        alone ranked worse on dev.jsonl)."""
        matched = self.en_zh.matches(text)  # in file order; sorted() keeps it among equal lengths
        found = [e.adds for e in sorted(matched, key=lambda e: -len(e.term))]
        return " ".join(found) if len(found) >= MIN_TERMS else ""

    def words(self) -> list[str]:
        """Every term of the lexicon and its Chinese targets (the scope signals' corpus vocabulary includes them)."""
        terms = [e.term for table in (self.colloquial, self.zh_en, self.en_zh) for e in table.entries]
        return terms + [e.adds for table in (self.colloquial, self.en_zh) for e in table.entries]

    def unknown_targets(self, vocabulary: set[str]) -> list[str]:
        """`table:term -> target` for each Chinese target none of whose tokens (the
        BM25 tokenizer's) is in `vocabulary` (such a target cannot match anything)."""
        from ingest.lexical import tokenize

        unknown = []
        for table in (self.colloquial, self.en_zh):
            for entry in table.entries:
                for target in entry.adds.split():
                    if not any(token in vocabulary for token in tokenize(target)):
                        unknown.append(f"{entry.table}:{entry.term} -> {target}")
        return unknown


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The bundled lexicon, loaded once per process."""
    return Lexicon.load()


def expand(text: str) -> str:
    return lexicon().expand(text)


def gloss_to_english(text: str) -> str:
    return lexicon().gloss_to_english(text)


def gloss_to_chinese(text: str) -> str:
    return lexicon().gloss_to_chinese(text)
