from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.errors import CorpusError
from corpus.guidance import parse_guidance
from corpus.manifest import DocumentInfo, Manifest, load_manifest, sha256_of
from corpus.passage import Passage
from corpus.statute import parse_statute

Parser = Callable[[DocumentInfo, str], list[Passage]]

# Dispatch by document kind; every kind that is not listed is a statute.
PARSERS: dict[str, Parser] = {"guidance": parse_guidance}


@dataclass
class Corpus:
    directory: Path
    manifest: Manifest
    passages: list[Passage]
    texts: dict[str, str] = field(repr=False)  # doc_id -> full source text

    @property
    def version(self) -> str:
        """Identifies the corpus content: changes when any file or the manifest does."""
        digest = hashlib.sha256()
        for doc in sorted(self.manifest.documents, key=lambda d: d.doc_id):
            digest.update(f"{doc.doc_id}={doc.sha256}\n".encode())
        return digest.hexdigest()[:16]

    def by_key(self) -> dict[str, Passage]:
        return {p.key: p for p in self.passages}

    def document_hashes(self) -> dict[str, str]:
        return {doc.doc_id: doc.sha256 for doc in self.manifest.documents}


def read_document(corpus_dir: Path, doc: DocumentInfo, verify: bool = True) -> str:
    path = corpus_dir / doc.file
    if not path.is_file():
        raise CorpusError(doc.file, "file listed in the manifest is missing")
    if verify and (actual := sha256_of(path)) != doc.sha256:
        raise CorpusError(
            doc.file, f"sha256 mismatch: manifest says {doc.sha256[:12]}…, file is {actual[:12]}…"
        )
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise CorpusError(doc.file, "not valid UTF-8", line) from None


def load_corpus(corpus_dir: Path, verify: bool = True) -> Corpus:
    """Read and parse every document; raise CorpusError on the first problem."""
    manifest = load_manifest(corpus_dir)
    passages: list[Passage] = []
    texts: dict[str, str] = {}
    for doc in manifest.documents:
        text = read_document(corpus_dir, doc, verify)
        texts[doc.doc_id] = text
        passages.extend(PARSERS.get(doc.kind, parse_statute)(doc, text))
    return Corpus(corpus_dir, manifest, passages, texts)
