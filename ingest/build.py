"""Build a new index version beside the live one; switch only when complete."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from tqdm import tqdm

from corpus import Corpus, Passage, ReferenceParser, load_corpus
from corpus.sentences import split_sentences
from ingest.embedders import Embedder, make_embedder
from ingest.lexical import LexicalIndex
from ingest.links import build_links
from ingest.passage_vectors import write_passage_vectors
from ingest.passage_questions import PassageQuestion, load_passage_questions, write_question_index
from ingest.renderings import RenderingSet, load_renderings, write_renderings
from ingest.sentence_index import write_sentence_index
from ingest.settings import IndexSettings
from ingest.store import collection_name, open_chroma
from ingest.version import (
    INDEX_FILE,
    LEXICAL_DIR,
    LINKS_FILE,
    PASSAGES_FILE,
    SOURCES_DIR,
    EmbedderRecord,
    IndexRecord,
    current_build_id,
    publish_version,
    read_record,
    staging_dir,
    versions_dir,
    write_passages,
)

# Bump when the text given to the embedders, the lexical tokenisation or the
# files of a version change (format 2: sentence vectors from every model;
# 3: passage vectors beside the collections, for filtered queries;
# 4: the questions each passage answers, embedded by every model;
# 5: the renderings of the sentences into the other language).
INDEX_FORMAT = "5"
ADD_BATCH = 256


def embedding_input(passage: Passage) -> str:
    """Title and chapter go with the article text: they carry the topic that
    article text often leaves implicit (第十九条 never says "养老保险" in its chapter)."""
    heading = " ".join(x for x in (passage.title, passage.chapter) if x)
    return f"{heading}\n{passage.text}"


def input_hash(passage: Passage) -> str:
    return hashlib.sha256(embedding_input(passage).encode()).hexdigest()[:32]


@dataclass
class IngestReport:
    build_id: str
    corpus_version: str
    documents: int
    passages: int
    new: int
    changed: int
    unchanged: int
    removed: int
    embedded: int  # passages whose embeddings were computed (not reused)
    seconds: float
    switched: bool
    sentences_embedded: int = 0
    questions_embedded: int = 0
    # passages whose questions (ingest.passage_questions) were written for another text
    stale_questions: list[str] = field(default_factory=list)
    renderings: int = 0  # sentences with a rendering (ingest.renderings)
    missing_renderings: int = 0
    # renderings written for a sentence text that no longer exists (their source, shortened)
    stale_renderings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        state = "switched to" if self.switched else "already serving"
        stale = (
            f"; questions left out for {len(self.stale_questions)} changed or removed passages "
            f"({', '.join(self.stale_questions[:3])}{', …' if len(self.stale_questions) > 3 else ''})"
            if self.stale_questions else ""
        )
        renderings = (
            f"; {self.renderings} sentences rendered, {self.missing_renderings} without a rendering"
            + (
                f", {len(self.stale_renderings)} stale renderings left out "
                f"({'; '.join(self.stale_renderings[:3])}{'; …' if len(self.stale_renderings) > 3 else ''})"
                if self.stale_renderings else ""
            )
        )
        return (
            f"{self.documents} documents, {self.passages} passages: {self.new} new, "
            f"{self.changed} changed, {self.unchanged} unchanged, {self.removed} removed; "
            f"{self.embedded} embedded in {self.seconds:.1f} s; {state} index {self.build_id}{stale}{renderings}"
        )


def compute_build_id(
    corpus: Corpus, embedders: list[Embedder], questions: list[PassageQuestion], renderings: RenderingSet | None = None
) -> str:
    digest = hashlib.sha256(f"format={INDEX_FORMAT}\n".encode())
    for embedder in embedders:
        digest.update(f"{embedder.name}={embedder.model_id}\n".encode())
    for passage in corpus.passages:
        digest.update(f"{passage.id}:{input_hash(passage)}\n".encode())
    for question in questions:
        digest.update(f"{question.key}:{question.lang}:{question.text}\n".encode())
    if renderings is not None:
        digest.update(json.dumps(renderings.renderings, sort_keys=True, ensure_ascii=False).encode())
    digest.update(corpus.manifest.model_dump_json().encode())
    return digest.hexdigest()[:16]


def _live_collection(client: ClientAPI, record: IndexRecord | None, embedder: Embedder) -> Collection | None:
    """The live version's collection for `embedder`, if the same model (model_id) filled it:
    other weights (the int8 backend, a retrained model) have nothing to reuse."""
    if record is None or embedder.name not in record.embedders:
        return None
    if record.embedders[embedder.name].model_id != embedder.model_id:
        return None
    try:
        return client.get_collection(record.embedders[embedder.name].collection)
    except Exception:  # the live collection is gone: nothing to reuse
        return None


def _reusable_embeddings(live: Collection | None, passages: list[Passage]) -> dict[str, list[float]]:
    """Embeddings of passages whose embedding input is unchanged, from the live collection."""
    if live is None:
        return {}
    found = live.get(ids=[p.id for p in passages], include=["embeddings", "metadatas"])
    wanted = {p.id: input_hash(p) for p in passages}
    reuse: dict[str, list[float]] = {}
    for pid, vector, meta in zip(found["ids"], found["embeddings"], found["metadatas"], strict=True):
        if meta and meta.get("input_hash") == wanted.get(pid):
            reuse[pid] = list(vector)
    return reuse


def _fill_collection(
    collection: Collection,
    embedder: Embedder,
    passages: list[Passage],
    reuse: dict[str, list[float]],
    progress: bool,
) -> tuple[int, np.ndarray]:
    """Add every passage to `collection`, embedding those not in `reuse`; returns
    how many were embedded and the vectors in passage order."""
    # by length: a batch pads to its longest text, so batches of similar lengths pad least
    todo = sorted((p for p in passages if p.id not in reuse), key=lambda p: len(embedding_input(p)))
    vectors = dict(reuse)
    bar = tqdm(total=len(todo), desc=f"embedding ({embedder.name})", unit="passage", disable=not progress or not todo)
    for i in range(0, len(todo), embedder.batch_size):
        batch = todo[i : i + embedder.batch_size]
        for passage, vector in zip(batch, embedder.encode([embedding_input(p) for p in batch], is_query=False), strict=True):
            vectors[passage.id] = vector.tolist()
        bar.update(len(batch))
    bar.close()
    for i in range(0, len(passages), ADD_BATCH):
        batch = passages[i : i + ADD_BATCH]
        collection.add(
            ids=[p.id for p in batch],
            embeddings=[vectors[p.id] for p in batch],
            documents=[p.text for p in batch],
            metadatas=[{**p.metadata(), "input_hash": input_hash(p)} for p in batch],
        )
    return len(todo), np.asarray([vectors[p.id] for p in passages], dtype=np.float32)


def _diff(old: list[dict], new: list[Passage]) -> tuple[int, int, int, int]:
    old_by_key = {p["key"]: p["hash"] for p in old}
    new_by_key = {p.key: p.hash for p in new}
    added = sum(1 for k in new_by_key if k not in old_by_key)
    changed = sum(1 for k, h in new_by_key.items() if k in old_by_key and old_by_key[k] != h)
    unchanged = sum(1 for k, h in new_by_key.items() if old_by_key.get(k) == h)
    removed = sum(1 for k in old_by_key if k not in new_by_key)
    return added, changed, unchanged, removed


def _old_passages(settings: IndexSettings, build_id: str | None) -> list[dict]:
    if build_id is None:
        return []
    path = versions_dir(settings.index_dir) / build_id / PASSAGES_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _collect_garbage(settings: IndexSettings, client: ClientAPI, keep: set[str]) -> None:
    """Drop versions other than `keep` (the new one and the one it replaced,
    which a running service may still be reading until it reloads), with their
    collections. Only collections recorded by this data directory's own versions
    are touched, so several data directories can share one Chroma server."""
    root = versions_dir(settings.index_dir)
    existing = _collection_names(client)
    for path in root.iterdir():
        if path.name in keep:
            continue
        if path.name.startswith(".staging-"):
            # left by a killed ingest; safe to drop: this ingest holds the lock
            shutil.rmtree(path, ignore_errors=True)
            continue
        if (path / INDEX_FILE).exists():
            for embedder in read_record(path).embedders.values():
                if embedder.collection in existing:
                    client.delete_collection(embedder.collection)
        shutil.rmtree(path, ignore_errors=True)


def _collection_names(client: ClientAPI) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


def _version_complete(settings: IndexSettings, client: ClientAPI, build_id: str) -> bool:
    folder = versions_dir(settings.index_dir) / build_id
    if not (folder / INDEX_FILE).exists():
        return False
    record = read_record(folder)
    for embedder in record.embedders.values():
        try:
            if client.get_collection(embedder.collection).count() != record.passage_count:
                return False
        except Exception:
            return False
    return True


@contextmanager
def _exclusive(index_dir: Path) -> Iterator[None]:
    """One ingest at a time per data directory."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusy(f"another ingest is running on {index_dir}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class IngestBusy(RuntimeError):
    pass


def run_ingest(
    settings: IndexSettings,
    progress: bool = True,
    embedders: list[Embedder] | None = None,
    before_switch: Callable[[], None] | None = None,
) -> IngestReport:
    """Parse the corpus, build a complete new version, then switch to it.

    A CorpusError (malformed document) is raised before anything is written.
    """
    with _exclusive(settings.index_dir):
        return _run_ingest(settings, progress, embedders, before_switch)


def _run_ingest(
    settings: IndexSettings,
    progress: bool,
    embedders: list[Embedder] | None,
    before_switch: Callable[[], None] | None,
) -> IngestReport:
    started = time.perf_counter()
    corpus = load_corpus(settings.corpus_dir)
    # ingest hashes the model folders in full (a service only compares sizes and times)
    embedders = embedders or [make_embedder(name, settings, model_check="full") for name in settings.embedders]
    question_set = load_passage_questions(settings.passage_questions, corpus.passages)
    rendering_set = load_renderings(
        settings.renderings,
        [s for p in corpus.passages for s in split_sentences(p)],
        {p.key: p.lang for p in corpus.passages},
    )
    build_id = compute_build_id(corpus, embedders, question_set.questions, rendering_set)
    rendered = {
        "renderings": len(rendering_set.renderings),
        "missing_renderings": rendering_set.missing,
        "stale_renderings": rendering_set.stale,
    }
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    versions_dir(settings.index_dir).mkdir(exist_ok=True)
    client = open_chroma(settings)
    live_id = current_build_id(settings.index_dir)
    old = _old_passages(settings, live_id)

    if live_id == build_id and _version_complete(settings, client, build_id):
        return IngestReport(
            build_id, corpus.version, len(corpus.manifest.documents), len(corpus.passages),
            0, 0, len(corpus.passages), 0, 0, time.perf_counter() - started, False,
            stale_questions=question_set.stale, **rendered,
        )

    live_dir = versions_dir(settings.index_dir) / (live_id or "-")
    live_record = read_record(live_dir) if (live_dir / INDEX_FILE).exists() else None
    staging = staging_dir(settings.index_dir, build_id)
    created: list[str] = []
    try:
        records: dict[str, EmbedderRecord] = {}
        embedded = 0
        for embedder in embedders:
            name = collection_name(build_id, embedder.name)
            if name in _collection_names(client):
                client.delete_collection(name)  # left over by an interrupted build
            collection = client.create_collection(name, metadata={"hnsw:space": "cosine"})
            created.append(name)
            reuse = _reusable_embeddings(_live_collection(client, live_record, embedder), corpus.passages)
            fresh, vectors = _fill_collection(collection, embedder, corpus.passages, reuse, progress)
            embedded = max(embedded, fresh)  # counted once: the same passages are embedded by every model
            write_passage_vectors(staging, embedder.name, vectors)
            dimension = len(collection.get(ids=[corpus.passages[0].id], include=["embeddings"])["embeddings"][0])
            records[embedder.name] = EmbedderRecord(model_id=embedder.model_id, collection=name, dimension=dimension)

        sentences_embedded = write_sentence_index(
            staging, corpus.passages, embedders,
            previous=live_dir if live_record else None, progress=progress,
        )
        questions_embedded = write_question_index(
            staging, question_set.questions, embedders,
            previous=live_dir if live_record else None, progress=progress,
        )
        write_renderings(staging, rendering_set)
        LexicalIndex.build([p.text for p in corpus.passages]).save(staging / LEXICAL_DIR)
        write_passages(staging / PASSAGES_FILE, corpus.passages)
        parser = ReferenceParser(corpus.manifest)
        (staging / LINKS_FILE).write_text(json.dumps(build_links(corpus.passages, parser), ensure_ascii=False))
        sources = staging / SOURCES_DIR
        sources.mkdir()
        for doc in corpus.manifest.documents:
            (sources / doc.file).write_bytes(corpus.texts[doc.doc_id].encode("utf-8"))
        (sources / "manifest.json").write_text(corpus.manifest.model_dump_json(indent=2), encoding="utf-8")
        record = IndexRecord(
            build_id=build_id,
            corpus_version=corpus.version,
            document_hashes=corpus.document_hashes(),
            embedders=records,
            passage_count=len(corpus.passages),
            chroma=settings.chroma_url or "embedded",
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        # index.json last: its presence marks the directory complete
        (staging / INDEX_FILE).write_text(record.model_dump_json(indent=2))
        if before_switch is not None:
            before_switch()
        publish_version(settings.index_dir, staging, build_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for name in created:
            try:
                client.delete_collection(name)
            except Exception:  # cleanup is best effort; the next build deletes leftovers
                pass
        raise
    _collect_garbage(settings, client, keep={build_id, live_id} - {None})  # type: ignore[arg-type]
    added, changed, unchanged, removed = _diff(old, corpus.passages)
    return IngestReport(
        build_id, corpus.version, len(corpus.manifest.documents), len(corpus.passages),
        added, changed, unchanged, removed, embedded, time.perf_counter() - started, True,
        sentences_embedded, questions_embedded, question_set.stale, **rendered,
    )
