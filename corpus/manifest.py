from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from corpus.errors import CorpusError

MANIFEST_FILE = "manifest.json"


class DocumentInfo(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    doc_id: str
    file: str
    lang: str
    title: str
    title_en: str
    aliases: list[str] = []
    kind: str
    issuer: str | None = None
    adopted: str | None = None
    amended: list[str] = []
    effective: str | None = None
    articles: int | None = None
    sha256: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    documents: list[DocumentInfo]

    def document(self, doc_id: str) -> DocumentInfo:
        for doc in self.documents:
            if doc.doc_id == doc_id:
                return doc
        raise KeyError(doc_id)

    @property
    def doc_ids(self) -> list[str]:
        return [doc.doc_id for doc in self.documents]


def load_manifest(corpus_dir: Path) -> Manifest:
    path = corpus_dir / MANIFEST_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(str(path), "manifest not found") from None
    except json.JSONDecodeError as exc:
        raise CorpusError(str(path), f"invalid JSON: {exc.msg}", exc.lineno) from None
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CorpusError(str(path), f"invalid manifest at {where}: {first['msg']}") from None
    ids = manifest.doc_ids
    duplicates = {d for d in ids if ids.count(d) > 1}
    if duplicates:
        raise CorpusError(str(path), f"duplicate doc_id {sorted(duplicates)}")
    return manifest


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
