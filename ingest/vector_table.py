"""Tables of short texts tied to passages (their sentences, the questions
they answer), embedded at ingest by every model so that retrieval can rank a
passage by its best-matching row while a request embeds only the question.

A row's vector is reused from the previous index version when the same model
embedded the same text, so a re-ingest embeds only what changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ingest.embedders import Embedder


@dataclass(frozen=True)
class VectorTable:
    name: str  # "sentences", "questions"
    is_query: bool  # embedded as a query (e5's "query:" prompt) rather than as a passage

    @property
    def rows_file(self) -> str:
        return f"{self.name}.jsonl"

    @property
    def vectors_dir(self) -> str:
        return f"{self.name.removesuffix('s')}_vectors"

    def vector_paths(self, folder: Path, embedder: str) -> tuple[Path, Path]:
        return folder / self.vectors_dir / f"{embedder}.npy", folder / self.vectors_dir / f"{embedder}.json"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def read_rows(folder: Path, table: VectorTable) -> list[dict[str, Any]]:
    lines = (folder / table.rows_file).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def _previous_vectors(folder: Path | None, table: VectorTable, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of an earlier version by text hash, if the same model made them."""
    if folder is None:
        return {}
    vectors_path, meta_path = table.vector_paths(folder, embedder.name)
    if not vectors_path.exists() or not meta_path.exists() or not (folder / table.rows_file).exists():
        return {}
    if json.loads(meta_path.read_text(encoding="utf-8")).get("model_id") != embedder.model_id:
        return {}
    vectors = np.load(vectors_path)
    return {row["hash"]: vectors[i] for i, row in enumerate(read_rows(folder, table))}


def _embed(
    table: VectorTable, texts: list[str], hashes: list[str], embedder: Embedder,
    known: dict[str, np.ndarray], progress: bool,
) -> tuple[np.ndarray, int]:
    todo = list({digest: text for text, digest in zip(texts, hashes, strict=True) if digest not in known}.items())
    todo.sort(key=lambda item: len(item[1]))  # batches of similar lengths pad least
    fresh: dict[str, np.ndarray] = {}
    bar = tqdm(total=len(todo), desc=f"{table.name} ({embedder.name})", unit="row", disable=not progress or not todo)
    for i in range(0, len(todo), embedder.batch_size):
        batch = todo[i : i + embedder.batch_size]
        vectors = embedder.encode([text for _, text in batch], is_query=table.is_query)
        fresh.update((digest, vector) for (digest, _), vector in zip(batch, vectors, strict=True))
        bar.update(len(batch))
    bar.close()
    if not hashes:
        return np.zeros((0, 0), dtype=np.float32), 0
    lookup = {**known, **fresh}
    return np.vstack([lookup[digest] for digest in hashes]).astype(np.float32), len(todo)


def write_table(
    folder: Path, table: VectorTable, rows: list[dict[str, Any]], texts: list[str],
    embedders: list[Embedder], previous: Path | None, progress: bool,
) -> int:
    """Write `rows` (each gains the hash of its text) and one vector matrix per
    model; returns how many embeddings were computed (not reused from `previous`)."""
    hashes = [text_hash(text) for text in texts]
    (folder / table.vectors_dir).mkdir(exist_ok=True)
    computed = 0
    for embedder in embedders:
        vectors, fresh = _embed(table, texts, hashes, embedder, _previous_vectors(previous, table, embedder), progress)
        computed += fresh
        vectors_path, meta_path = table.vector_paths(folder, embedder.name)
        np.save(vectors_path, vectors)
        meta_path.write_text(json.dumps({"model_id": embedder.model_id, "dimension": int(vectors.shape[1])}))
    with (folder / table.rows_file).open("w", encoding="utf-8") as out:
        for row, digest in zip(rows, hashes, strict=True):
            out.write(json.dumps({**row, "hash": digest}, ensure_ascii=False) + "\n")
    return computed


def read_vectors(folder: Path, table: VectorTable, embedders: list[str]) -> dict[str, np.ndarray]:
    return {name: np.load(table.vector_paths(folder, name)[0]) for name in embedders}
