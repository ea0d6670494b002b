"""Index versions on disk: data/index/versions/<build_id>/ and the CURRENT pointer.

A version directory is written under a temporary name and renamed when complete;
CURRENT is replaced atomically last. Readers therefore see either the previous
complete version or the new complete one, never a half-built index.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

from pydantic import BaseModel

from corpus import Passage

CURRENT = "CURRENT"
VERSIONS = "versions"
INDEX_FILE = "index.json"
PASSAGES_FILE = "passages.jsonl"
LINKS_FILE = "links.json"
LEXICAL_DIR = "bm25"
SOURCES_DIR = "corpus"  # the exact source files this version was built from


class EmbedderRecord(BaseModel):
    model_id: str
    collection: str
    dimension: int


class IndexRecord(BaseModel):
    """index.json: what a version was built from."""

    build_id: str
    corpus_version: str
    document_hashes: dict[str, str]
    embedders: dict[str, EmbedderRecord]
    passage_count: int
    chroma: str  # "embedded" or the server URL
    created_at: str


def versions_dir(index_dir: Path) -> Path:
    return index_dir / VERSIONS


def current_build_id(index_dir: Path) -> str | None:
    try:
        value = (index_dir / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    return value or None


def read_record(version_dir: Path) -> IndexRecord:
    return IndexRecord.model_validate_json((version_dir / INDEX_FILE).read_text())


def write_passages(path: Path, passages: list[Passage]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for passage in passages:
            out.write(json.dumps(asdict(passage), ensure_ascii=False) + "\n")


def read_passages(path: Path) -> list[Passage]:
    with path.open(encoding="utf-8") as lines:
        return [Passage(**json.loads(line)) for line in lines if line.strip()]


def publish_version(index_dir: Path, staging: Path, build_id: str) -> Path:
    """Move a complete staging directory into place and point CURRENT at it."""
    final = versions_dir(index_dir) / build_id
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    pointer_tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    pointer_tmp.write_text(build_id + "\n")
    with pointer_tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / CURRENT)
    return final


def staging_dir(index_dir: Path, build_id: str) -> Path:
    path = versions_dir(index_dir) / f".staging-{build_id}-{os.getpid()}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
