"""Sentence embeddings, computed at ingest by every model: they let retrieval
rank a passage by its best-matching sentence (a long article about many things
is not diluted into one vector), and an answer pick the sentences that answer."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from corpus import Passage
from corpus.sentences import Sentence, split_sentences
from ingest.embedders import Embedder
from ingest.vector_table import VectorTable, read_rows, read_vectors, write_table

QUOTE_EMBEDDER = "use"  # picks the quoted sentences: cross-lingual, so English questions meet Chinese sentences
SENTENCES = VectorTable("sentences", is_query=False)
VECTORS_DIR = SENTENCES.vectors_dir


def write_sentence_index(
    folder: Path, passages: list[Passage], embedders: list[Embedder], previous: Path | None, progress: bool
) -> int:
    """Returns how many sentence embeddings were computed (not reused from `previous`)."""
    sentences = [s for p in passages for s in split_sentences(p)]
    return write_table(
        folder, SENTENCES, [asdict(s) for s in sentences], [s.text for s in sentences], embedders, previous, progress
    )


def read_sentence_index(folder: Path, embedders: list[str]) -> tuple[list[Sentence], dict[str, np.ndarray]]:
    sentences = [Sentence(r["key"], r["index"], r["start"], r["end"], r["text"]) for r in read_rows(folder, SENTENCES)]
    return sentences, read_vectors(folder, SENTENCES, embedders)
