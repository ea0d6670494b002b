"""Sentence embeddings, computed at ingest, so that an answer can pick the
sentences that answer a question without embedding anything at request time."""

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

SENTENCE_EMBEDDER = "use"  # fast and cross-lingual: English questions meet Chinese sentences
SENTENCES_FILE = "sentences.jsonl"
VECTORS_FILE = "sentence_vectors.npy"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _previous_vectors(folder: Path | None, model_id: str) -> dict[str, np.ndarray]:
    if folder is None or not (folder / VECTORS_FILE).exists():
        return {}
    meta_path = folder / SENTENCES_FILE
    rows = [json.loads(line) for line in meta_path.read_text(encoding="utf-8").splitlines() if line]
    if not rows or rows[0].get("model_id") != model_id:
        return {}
    vectors = np.load(folder / VECTORS_FILE)
    return {row["hash"]: vectors[i] for i, row in enumerate(rows)}


def write_sentence_index(
    folder: Path, passages: list[Passage], embedder: Embedder, previous: Path | None, progress: bool
) -> int:
    sentences = [s for p in passages for s in split_sentences(p)]
    known = _previous_vectors(previous, embedder.model_id)
    todo = [s for s in sentences if _hash(s.text) not in known]
    fresh: dict[str, np.ndarray] = {}
    bar = tqdm(total=len(todo), desc=f"sentences ({embedder.name})", unit="sentence", disable=not progress or not todo)
    for i in range(0, len(todo), embedder.batch_size):
        batch = todo[i : i + embedder.batch_size]
        for sentence, vector in zip(batch, embedder.encode([s.text for s in batch], is_query=False), strict=True):
            fresh[_hash(sentence.text)] = vector
        bar.update(len(batch))
    bar.close()
    vectors = np.vstack([fresh.get(_hash(s.text), known.get(_hash(s.text))) for s in sentences]).astype(np.float32)
    np.save(folder / VECTORS_FILE, vectors)
    with (folder / SENTENCES_FILE).open("w", encoding="utf-8") as out:
        for sentence in sentences:
            row = {**asdict(sentence), "hash": _hash(sentence.text), "model_id": embedder.model_id}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(todo)


def read_sentence_index(folder: Path) -> tuple[list[Sentence], np.ndarray]:
    rows = [json.loads(line) for line in (folder / SENTENCES_FILE).read_text(encoding="utf-8").splitlines() if line]
    sentences = [Sentence(r["key"], r["index"], r["start"], r["end"], r["text"]) for r in rows]
    return sentences, np.load(folder / VECTORS_FILE)
