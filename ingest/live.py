"""Opening the live index version for readers (the service, evaluation)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from corpus import Manifest, Passage
from corpus.sentences import Sentence
from ingest.lexical import LexicalIndex
from ingest.passage_questions import PassageQuestion, read_question_index
from ingest.passage_vectors import read_passage_vectors
from ingest.renderings import read_renderings
from ingest.sentence_index import read_sentence_index
from ingest.settings import IndexSettings
from ingest.version import (
    LEXICAL_DIR,
    LINKS_FILE,
    PASSAGES_FILE,
    SOURCES_DIR,
    IndexRecord,
    current_build_id,
    read_passages,
    read_record,
    versions_dir,
)


class IndexMissing(RuntimeError):
    """No complete index version: run `python -m ingest`."""


@dataclass
class LiveIndex:
    record: IndexRecord
    folder: Path
    manifest: Manifest
    passages: list[Passage]
    lexical: LexicalIndex
    links: dict[str, dict[str, list[str]]]
    collections: dict[str, Collection]
    sources: dict[str, str] = field(repr=False)  # file name -> text the version was built from
    sentences: list[Sentence] = field(default_factory=list, repr=False)
    # embedder name -> one row per sentence
    sentence_vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    questions: list[PassageQuestion] = field(default_factory=list, repr=False)
    # embedder name -> one row per question (ingest.passage_questions)
    question_vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # embedder name -> one unit-normalised row per passage (memory-mapped), for filtered queries
    passage_vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # sentence hash -> {"lang", "text"}: the unofficial rendering into the other language
    renderings: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    # score every passage against passage_vectors instead of asking Chroma's HNSW (see open_live)
    exact_dense: bool = False
    sentence_rows: dict[str, list[int]] = field(init=False, repr=False)
    # passage row of each sentence; sentences are stored in passage order
    sentence_passage: np.ndarray = field(init=False, repr=False)
    question_passage: np.ndarray = field(init=False, repr=False)
    _columns: dict[str, tuple[np.ndarray, dict[object, int]]] = field(init=False, repr=False, default_factory=dict)
    row_of: dict[str, int] = field(init=False, repr=False)
    key_of_id: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.row_of = {p.key: i for i, p in enumerate(self.passages)}
        self.key_of_id = {p.id: p.key for p in self.passages}
        self.sentence_rows = {}
        for row, sentence in enumerate(self.sentences):
            self.sentence_rows.setdefault(sentence.key, []).append(row)
        self.sentence_passage = np.array([self.row_of[s.key] for s in self.sentences], dtype=np.int64)
        self.question_passage = np.array([self.row_of[q.key] for q in self.questions], dtype=np.int64)

    def row_table(self, table: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Vectors per embedder and the passage row of each row, of the
        "sentences" or the "questions" table."""
        if table == "sentences":
            return self.sentence_vectors, self.sentence_passage
        if table == "questions":
            return self.question_vectors, self.question_passage
        raise ValueError(f"no row table {table!r}")

    @property
    def build_id(self) -> str:
        return self.record.build_id

    @property
    def corpus_version(self) -> str:
        return self.record.corpus_version

    def filter_mask(self, filters: dict[str, list[str]]) -> np.ndarray:
        """Rows whose passage matches every filter, as a boolean array. Each field
        is coded once per index version (value -> small integer, one per row), so
        a request compares integers rather than strings: at 100k passages a
        string comparison cost more than the search it restricts."""
        mask = np.ones(len(self.passages), dtype=bool)
        for name, allowed in filters.items():
            coded = self._columns.get(name)
            if coded is None:
                values = [getattr(p, name) for p in self.passages]
                codes = {value: i for i, value in enumerate(dict.fromkeys(values))}
                coded = self._columns[name] = (np.array([codes[v] for v in values], dtype=np.int32), codes)
            column, codes = coded
            wanted = [codes[v] for v in allowed if v in codes]
            mask &= np.isin(column, wanted) if wanted else False
        return mask

    def passage(self, key: str) -> Passage | None:
        row = self.row_of.get(key)
        return None if row is None else self.passages[row]

    def source_text(self, passage: Passage) -> str:
        return self.sources[passage.file]


def _check_e5_backend(settings: IndexSettings, record: IndexRecord) -> None:
    """Queries must be embedded like the passages were: the fp32 backends (onnx,
    torch) share one model id and one index; int8 has its own."""
    from ingest.embedders import E5_BACKENDS

    built = record.embedders.get("e5")
    wanted = E5_BACKENDS[settings.e5_backend].model_id
    if built is not None and built.model_id != wanted:
        raise IndexMissing(
            f"index version {record.build_id} embedded e5 as {built.model_id}, but SIQA_E5_BACKEND="
            f"{settings.e5_backend.value} embeds queries as {wanted}: run `python -m ingest` with that backend"
        )


def open_live(settings: IndexSettings, client: ClientAPI, build_id: str | None = None) -> LiveIndex:
    build_id = build_id or current_build_id(settings.index_dir)
    if build_id is None:
        raise IndexMissing(f"no index in {settings.index_dir}: run `python -m ingest` first")
    folder = versions_dir(settings.index_dir) / build_id
    try:
        record = read_record(folder)
    except FileNotFoundError:
        raise IndexMissing(f"index version {build_id} is incomplete: run `python -m ingest`") from None
    _check_e5_backend(settings, record)
    sources_dir = folder / SOURCES_DIR
    manifest = Manifest.model_validate_json((sources_dir / "manifest.json").read_text(encoding="utf-8"))
    sources = {doc.file: (sources_dir / doc.file).read_bytes().decode("utf-8") for doc in manifest.documents}
    collections = {
        name: client.get_collection(embedder.collection) for name, embedder in record.embedders.items()
    }
    try:
        sentences, sentence_vectors = read_sentence_index(folder, list(record.embedders))
        passage_vectors = read_passage_vectors(folder, list(record.embedders))
        questions, question_vectors = read_question_index(folder, list(record.embedders))
        renderings = read_renderings(folder)
    except FileNotFoundError:
        raise IndexMissing(
            f"index version {build_id} lacks files this version of the service reads "
            "(written by an older ingest): run `python -m ingest`"
        ) from None
    return LiveIndex(
        # Embedded Chroma is not safe for several processes (chroma-core/chroma#3792): a
        # reader's HNSW can miss records another process wrote, so the ingest, the
        # service and an in-process evaluation could rank differently. A small corpus
        # is scored exactly from the version's own vectors instead (faster too); a
        # Chroma server, or a corpus too large to scan, is searched through HNSW.
        exact_dense=settings.chroma_url is None and record.passage_count <= settings.exact_dense_max,
        sentences=sentences,
        sentence_vectors=sentence_vectors,
        questions=questions,
        question_vectors=question_vectors,
        passage_vectors=passage_vectors,
        renderings=renderings,
        record=record,
        folder=folder,
        manifest=manifest,
        passages=read_passages(folder / PASSAGES_FILE),
        lexical=LexicalIndex.load(folder / LEXICAL_DIR),
        links=json.loads((folder / LINKS_FILE).read_text(encoding="utf-8")),
        collections=collections,
        sources=sources,
    )
