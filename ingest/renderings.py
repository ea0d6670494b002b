"""The project's own renderings of the corpus sentences into the other language:
English for the Chinese documents, Chinese for the English guidance.

They are unofficial: the service shows them beside the verbatim quote, which
stays authoritative. `renderings.jsonl` holds one entry per sentence: the
sha256 of the sentence text it renders, its target language, the source text
(for people reading the file) and the rendering. An entry whose sentence no
longer exists is stale: ingest leaves it out and names it, rather than show an
old rendering beside a new text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from corpus.sentences import Sentence
from ingest.data_files import read_entries

FILE = "renderings.json"  # in an index version: sentence hash -> {"lang", "text"}


class RenderingsError(ValueError):
    """The renderings file is malformed; the message names file and line."""


def sentence_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hash: str
    lang: Literal["zh", "en"]
    source: str
    text: str

    @field_validator("text", "source")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty text")
        return value

    @model_validator(mode="after")
    def _hash_of_source(self) -> _Entry:
        if sentence_hash(self.source) != self.hash:
            raise ValueError("hash is not the sha256 of source")
        return self


@dataclass(frozen=True)
class RenderingSet:
    renderings: dict[str, dict[str, str]]  # sentence hash -> {"lang", "text"}, current sentences only
    stale: list[str]  # sources of entries whose sentence is gone (shortened for reports)
    missing: int  # sentences without a rendering


def load_renderings(path: Path | None, sentences: list[Sentence], source_langs: dict[str, str]) -> RenderingSet:
    """Renderings of `sentences` (source_langs: passage key -> the passage's language);
    no file, no renderings."""
    if path is None or not path.exists():
        return RenderingSet({}, [], len({sentence_hash(s.text) for s in sentences}))
    entries = read_entries(path, _Entry, lambda e: e.hash, RenderingsError, "a rendering of this sentence")
    current: dict[str, str] = {}
    for sentence in sentences:
        current.setdefault(sentence_hash(sentence.text), source_langs[sentence.key])
    renderings: dict[str, dict[str, str]] = {}
    for digest, entry in entries.items():
        if digest in current and entry.lang != current[digest]:
            renderings[digest] = {"lang": entry.lang, "text": entry.text}
    stale = sorted(_short(e.source) for d, e in entries.items() if d not in current)
    return RenderingSet(renderings, stale, sum(1 for d in current if d not in renderings))


def _short(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[:width] + "…"


def write_renderings(folder: Path, renderings: RenderingSet) -> None:
    (folder / FILE).write_text(json.dumps(renderings.renderings, ensure_ascii=False, sort_keys=True), encoding="utf-8")


def read_renderings(folder: Path) -> dict[str, dict[str, str]]:
    return json.loads((folder / FILE).read_text(encoding="utf-8"))
