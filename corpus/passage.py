from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corpus.manifest import DocumentInfo


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Passage:
    """One citable unit: a statute article or a section of the guidance.

    `text == source_file_text[start:end]`, so any substring of `text` can be
    cited with exact offsets in the source file.
    """

    key: str
    doc_id: str
    title: str
    title_en: str
    kind: str
    lang: str
    file: str
    text: str
    start: int
    end: int
    article: int | None = None
    chapter: str | None = None
    section: str | None = None
    hash: str = field(default="")

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", content_hash(f"{self.key}\n{self.text}"))

    @classmethod
    def of_document(cls, doc: DocumentInfo, key: str, text: str, start: int, end: int, **where: Any) -> Passage:
        """A passage of `doc` (its title, kind, language and file), at text[start:end]
        of the source file; `where`: article, chapter, section."""
        return cls(
            key=key, doc_id=doc.doc_id, title=doc.title, title_en=doc.title_en, kind=doc.kind,
            lang=doc.lang, file=doc.file, text=text, start=start, end=end, **where,
        )

    @property
    def id(self) -> str:
        """Content-derived id: the same key and text always give the same id."""
        return self.hash[:32]

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata for vector stores (no None values: Chroma rejects them)."""
        meta: dict[str, str | int] = {
            "key": self.key,
            "doc_id": self.doc_id,
            "title": self.title,
            "title_en": self.title_en,
            "kind": self.kind,
            "lang": self.lang,
            "file": self.file,
            "start": self.start,
            "end": self.end,
            "hash": self.hash,
        }
        if self.article is not None:
            meta["article"] = self.article
        if self.chapter:
            meta["chapter"] = self.chapter
        if self.section:
            meta["section"] = self.section
        return meta
