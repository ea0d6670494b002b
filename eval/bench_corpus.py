"""Corpora for the scaling benchmark, and an embedder that serves known vectors.

A synthetic corpus of N passages is written as an ordinary corpus folder
(`manifest.json` with sha256s, one statute file per document), so that the
normal ingest path builds its index. Each passage is an article of 2-3 real
sentences of the bundled statutes, recombined at random (seeded), under its own
key `synthetic-DD:<n>`. The real Social Insurance Law (98 articles) comes along:
the reference parser needs it in every corpus.

Embedding 100k passages (and their ~250k sentences) with the real USE model
takes far longer than a benchmark should on 2 cores, so the scaling indexes
are built with `TableEmbedder`: every sentence vector is the real USE vector of
that sentence (the sentences are real, so these are exact), and a passage
vector is the length-weighted, normalised mean of the real vectors of its
heading line and its sentences (cosine ~0.89 with the real passage vector on
the bundled corpus's sentences; the cost of a query does not depend on how
close that is, only on the number and dimension of the vectors). A sample of
passages is also embedded with the real model to measure how close the derived
vectors are (`fidelity`). Queries are always embedded by the real model.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from corpus import Corpus, Passage
from corpus.numerals import to_chinese
from corpus.sentences import split_sentences
from ingest.build import embedding_input
from ingest.embedders import Embedder

GENERATOR_VERSION = 1
SEED = 20240601
MAX_ARTICLES_PER_DOC = 5000  # article numbers are written in Chinese numerals below 一万
MIN_DOCS = 20  # a document filter then selects about 5% of the passages
ARTICLES_PER_CHAPTER = 50
ANCHOR_DOC = "social-insurance-law"  # corpus.ReferenceParser's default document: every corpus needs it
FIDELITY_SAMPLE = 200
_TERMINATORS = tuple("。！？；")


class TableEmbedder(Embedder):
    """Vectors looked up by their exact input text; texts not in the table are
    embedded by the real model and counted in `misses`. Same name and model id
    as the real embedder, so the index records the model that embeds queries."""

    def __init__(self, real: Embedder, table: Mapping[str, np.ndarray], batch_size: int = 256) -> None:
        super().__init__(threads=real.threads, batch_size=batch_size)
        self.name = real.name
        self.model_id = real.model_id
        self.real = real
        self.table = table
        self.misses = 0

    def _load(self) -> None:
        self.real.warm_up()

    def warm_up(self) -> None:
        super().warm_up()
        self.misses = 0  # the warm-up text is not a miss of the index build

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        missing = [t for t in texts if t not in self.table]
        found = dict(zip(missing, self.real.encode(missing, is_query=is_query), strict=True)) if missing else {}
        self.misses += len(missing)
        return np.vstack([self.table[t] if t in self.table else found[t] for t in texts]).astype(np.float32)


def sentence_pool(corpus: Corpus) -> list[str]:
    """Distinct sentences of the Chinese statutes that end a sentence (。！？；):
    concatenated, they split back into exactly themselves."""
    pool: set[str] = set()
    for passage in corpus.passages:
        if passage.lang != "zh" or passage.article is None:
            continue
        for sentence in split_sentences(passage):
            text = sentence.text
            if text.endswith(_TERMINATORS) and "\n" not in text and 8 <= len(text) <= 200:
                pool.add(text)
    return sorted(pool)


def chapter_names(corpus: Corpus) -> list[str]:
    """Real chapter names without their numbers ('总则', '基本养老保险', …)."""
    names = []
    for passage in corpus.passages:
        if passage.chapter and " " in passage.chapter:
            name = passage.chapter.split(" ", 1)[1]
            if name not in names:
                names.append(name)
    return names or ["总则"]


def _doc_sizes(size: int) -> list[int]:
    docs = max(min(MIN_DOCS, size), -(-size // MAX_ARTICLES_PER_DOC))
    return [size // docs + (1 if i < size % docs else 0) for i in range(docs)]


def write_synthetic_corpus(directory: Path, size: int, source: Corpus, seed: int = SEED) -> None:
    """A corpus folder: `size` synthetic articles in max(20, size/5000) statute
    files, plus the real Social Insurance Law, copied unchanged (the reference
    parser resolves bare article numbers against it and requires it)."""
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    pool, chapters = sentence_pool(source), chapter_names(source)
    if len(pool) < 3:
        raise ValueError(f"the sentence pool needs at least 3 sentences, got {len(pool)}")
    rng = random.Random(seed * 1_000_003 + size)
    directory.mkdir(parents=True, exist_ok=True)
    law = source.manifest.document(ANCHOR_DOC)
    (directory / law.file).write_bytes(source.texts[ANCHOR_DOC].encode("utf-8"))
    documents = [law.model_dump()]
    for number, articles in enumerate(_doc_sizes(size), 1):
        doc_id = f"synthetic-{number:02d}"
        title = f"社会保险合成规定第{to_chinese(number)}号"
        lines = [f"# {title}", ""]
        for article in range(1, articles + 1):
            if (article - 1) % ARTICLES_PER_CHAPTER == 0:
                chapter = (article - 1) // ARTICLES_PER_CHAPTER + 1
                lines += [f"## 第{to_chinese(chapter)}章 {chapters[(chapter - 1) % len(chapters)]}", ""]
            body = "".join(rng.sample(pool, rng.choice((2, 3))))
            lines += [f"第{to_chinese(article)}条 {body}", ""]
        data = "\n".join(lines).encode("utf-8")
        file = f"{doc_id}.zh.md"
        (directory / file).write_bytes(data)
        documents.append({
            "doc_id": doc_id,
            "file": file,
            "lang": "zh",
            "title": title,
            "title_en": f"Synthetic Social Insurance Provisions No. {number}",
            "aliases": [],
            "kind": "synthetic regulation",
            "issuer": "benchmark generator",
            "adopted": None,
            "amended": [],
            "effective": None,
            "articles": articles,
            "sha256": hashlib.sha256(data).hexdigest(),
        })
    manifest = {
        "about": (
            f"Synthetic benchmark corpus: {size} articles recombined from 2-3 real sentences of the bundled "
            f"statutes (eval/bench_corpus.py, generator version {GENERATOR_VERSION}, seed {seed}), plus the real "
            f"{ANCHOR_DOC}. The synthetic documents are not law."
        ),
        "documents": documents,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def derived_table(
    passages: Iterable[Passage], sentence_vectors: Mapping[str, np.ndarray], real: Embedder
) -> dict[str, np.ndarray]:
    """embedding_input(passage) -> the normalised mean of the real vectors of its
    heading line (title, chapter) and of its sentences, weighted by length in
    characters; sentence text -> its real vector. Sentences missing from
    `sentence_vectors` and the distinct headings are embedded by `real`."""
    table: dict[str, np.ndarray] = dict(sentence_vectors)
    passages = list(passages)
    inputs = [embedding_input(p) for p in passages]
    headings = [text.split("\n", 1)[0] if "\n" in text else "" for text in inputs]
    split = [[s.text for s in split_sentences(p)] for p in passages]
    unknown = sorted({t for texts in split for t in texts if t not in table})
    if unknown:
        table.update(zip(unknown, real.encode(unknown, is_query=False), strict=True))
    distinct = sorted({h for h in headings if h})
    heading_vectors = dict(zip(distinct, real.encode(distinct, is_query=False), strict=True)) if distinct else {}
    for text, heading, sentences in zip(inputs, headings, split, strict=True):
        parts = [(heading_vectors[heading], len(heading))] if heading else []
        parts += [(table[t], len(t)) for t in sentences]
        if parts:
            vectors, weights = zip(*parts)
            table[text] = _normalise(np.average(np.vstack(vectors), axis=0, weights=weights)).astype(np.float32)
    return table


def fidelity(passages: list[Passage], table: Mapping[str, np.ndarray], real: Embedder, sample: int = FIDELITY_SAMPLE) -> dict[str, float]:
    """Cosine of derived passage vectors with the real model's, on an evenly spaced sample."""
    chosen = passages[:: max(1, len(passages) // sample)][:sample]
    inputs = [embedding_input(p) for p in chosen]
    real_vectors = _normalise(real.encode(inputs, is_query=False))
    derived = np.vstack([table[t] for t in inputs])
    cosines = np.einsum("ij,ij->i", real_vectors, derived)
    return {
        "sample": len(chosen),
        "cosine_mean": round(float(cosines.mean()), 4),
        "cosine_min": round(float(cosines.min()), 4),
    }
