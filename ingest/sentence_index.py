"""Sentence embeddings, computed at ingest by every model: they let retrieval
rank a passage by its best-matching sentence (a long article about many things
is not diluted into one vector), and an answer pick the sentences that answer,
without embedding anything but the question at request time."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from corpus import Passage
from corpus.sentences import Sentence, split_sentences
from ingest.embedders import Embedder

QUOTE_EMBEDDER = "use"  # picks the quoted sentences: cross-lingual, so English questions meet Chinese sentences
SENTENCES_FILE = "sentences.jsonl"
VECTORS_DIR = "sentence_vectors"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _vector_paths(folder: Path, embedder: str) -> tuple[Path, Path]:
    return folder / VECTORS_DIR / f"{embedder}.npy", folder / VECTORS_DIR / f"{embedder}.json"


def _previous_vectors(folder: Path | None, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of an earlier version by sentence hash, if the same model made them."""
    if folder is None:
        return {}
    vectors_path, meta_path = _vector_paths(folder, embedder.name)
    if not vectors_path.exists() or not meta_path.exists() or not (folder / SENTENCES_FILE).exists():
        return {}
    if json.loads(meta_path.read_text(encoding="utf-8")).get("model_id") != embedder.model_id:
        return {}
    rows = [json.loads(line) for line in (folder / SENTENCES_FILE).read_text(encoding="utf-8").splitlines() if line]
    vectors = np.load(vectors_path)
    return {row["hash"]: vectors[i] for i, row in enumerate(rows)}


def _embed(
    texts: list[str], hashes: list[str], embedder: Embedder, known: dict[str, np.ndarray], progress: bool
) -> tuple[np.ndarray, int]:
    todo = list({digest: text for text, digest in zip(texts, hashes, strict=True) if digest not in known}.items())
    fresh: dict[str, np.ndarray] = {}
    bar = tqdm(total=len(todo), desc=f"sentences ({embedder.name})", unit="sentence", disable=not progress or not todo)
    for i in range(0, len(todo), embedder.batch_size):
        batch = todo[i : i + embedder.batch_size]
        vectors = embedder.encode([text for _, text in batch], is_query=False)
        fresh.update((digest, vector) for (digest, _), vector in zip(batch, vectors, strict=True))
        bar.update(len(batch))
    bar.close()
    table = {**known, **fresh}
    return np.vstack([table[digest] for digest in hashes]).astype(np.float32), len(todo)


def write_sentence_index(
    folder: Path, passages: list[Passage], embedders: list[Embedder], previous: Path | None, progress: bool
) -> int:
    """Write the sentences and one vector matrix per model; returns how many
    sentence embeddings were computed (not reused from `previous`)."""
    sentences = [s for p in passages for s in split_sentences(p)]
    texts = [s.text for s in sentences]
    hashes = [_hash(text) for text in texts]
    (folder / VECTORS_DIR).mkdir(exist_ok=True)
    computed = 0
    for embedder in embedders:
        vectors, fresh = _embed(texts, hashes, embedder, _previous_vectors(previous, embedder), progress)
        computed += fresh
        vectors_path, meta_path = _vector_paths(folder, embedder.name)
        np.save(vectors_path, vectors)
        meta_path.write_text(json.dumps({"model_id": embedder.model_id, "dimension": int(vectors.shape[1])}))
    with (folder / SENTENCES_FILE).open("w", encoding="utf-8") as out:
        for sentence, digest in zip(sentences, hashes, strict=True):
            out.write(json.dumps({**asdict(sentence), "hash": digest}, ensure_ascii=False) + "\n")
    return computed


def read_sentence_index(folder: Path, embedders: list[str]) -> tuple[list[Sentence], dict[str, np.ndarray]]:
    rows = [json.loads(line) for line in (folder / SENTENCES_FILE).read_text(encoding="utf-8").splitlines() if line]
    sentences = [Sentence(r["key"], r["index"], r["start"], r["end"], r["text"]) for r in rows]
    return sentences, {name: np.load(_vector_paths(folder, name)[0]) for name in embedders}
