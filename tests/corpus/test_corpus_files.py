"""The corpus copy in the repository is the one the manifest describes, and
the shared one (../shared/corpus beside the repository, as CI lays it out, or
SIQA_SHARED_CORPUS) byte for byte, where that exists."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from corpus import DEFAULT_CORPUS_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
# CI clones the repository into some folder with the shared folder beside it: ../shared
SHARED_CORPUS = Path(os.environ.get("SIQA_SHARED_CORPUS") or REPO_ROOT.parent / "shared" / "corpus")
MANIFEST = json.loads((DEFAULT_CORPUS_DIR / "manifest.json").read_text(encoding="utf-8"))
DOCUMENTS = MANIFEST["documents"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("doc", DOCUMENTS, ids=[d["doc_id"] for d in DOCUMENTS])
def test_listed_file_matches_its_sha256(doc: dict) -> None:
    assert sha256(DEFAULT_CORPUS_DIR / doc["file"]) == doc["sha256"]


def test_manifest_lists_six_documents_with_unique_ids_and_files() -> None:
    ids = [d["doc_id"] for d in DOCUMENTS]
    files = [d["file"] for d in DOCUMENTS]
    assert len(ids) == 6
    assert len(set(ids)) == len(ids)
    assert len(set(files)) == len(files)


def test_no_unlisted_document_in_the_corpus_folder() -> None:
    data_files = {p.name for p in DEFAULT_CORPUS_DIR.iterdir() if p.suffix in {".md", ".json"}}
    assert data_files == {"manifest.json", "SOURCES.md", *(d["file"] for d in DOCUMENTS)}


def _shared_files() -> list[Path]:
    if not SHARED_CORPUS.is_dir():
        return []
    return sorted(p for p in SHARED_CORPUS.iterdir() if p.is_file() and p.suffix in {".md", ".json"})


@pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason=f"{SHARED_CORPUS} does not exist here")
def test_shared_corpus_has_the_manifest_the_sources_and_every_document() -> None:
    names = {p.name for p in _shared_files()}
    assert {"manifest.json", "SOURCES.md", *(d["file"] for d in DOCUMENTS)} <= names


@pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason=f"{SHARED_CORPUS} does not exist here")
@pytest.mark.parametrize("shared", _shared_files(), ids=lambda p: p.name)
def test_shared_file_is_byte_identical_to_the_repository_copy(shared: Path) -> None:
    ours = DEFAULT_CORPUS_DIR / shared.name
    assert ours.is_file(), f"{shared.name} is in {SHARED_CORPUS} but not in {DEFAULT_CORPUS_DIR}"
    assert ours.read_bytes() == shared.read_bytes()
