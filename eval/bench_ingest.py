"""The ingest part of `python -m eval bench`: a full ingest against embedding
the same inputs alone, an unchanged re-ingest, and the same index built into a
`chroma run` server."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from corpus import Corpus
from corpus.sentences import split_sentences
from eval.bench_stats import BenchError, cpu_seconds, ratio
from ingest.build import embedding_input, run_ingest
from ingest.embedders import Embedder
from ingest.passage_questions import load_passage_questions
from ingest.settings import IndexSettings


def measure_ingest(settings: IndexSettings, embedders: list[Embedder], corpus: Corpus, bracket: bool) -> dict[str, Any]:
    """Full ingest into an empty data dir vs. embedding the same inputs in a batch
    loop; then an unchanged re-ingest. With `bracket`, the embedding loop runs
    before and after the ingest and the mean is used (load drifts on a shared machine)."""
    passage_inputs = [embedding_input(p) for p in corpus.passages]
    # distinct sentences and passage questions, as ingest embeds them
    sentences = list(dict.fromkeys(s.text for p in corpus.passages for s in split_sentences(p)))
    questions = list(dict.fromkeys(
        q.text for q in load_passage_questions(settings.passage_questions, corpus.passages).questions
    ))

    def embed_only() -> float:
        started, cpu = time.perf_counter(), cpu_seconds()
        for embedder in embedders:
            embedder.encode(passage_inputs, is_query=False)
            embedder.encode(sentences, is_query=False)
            if questions:
                embedder.encode(questions, is_query=True)
        embed_cpu.append(cpu_seconds() - cpu)
        return time.perf_counter() - started

    embed_cpu: list[float] = []
    embed_runs = [embed_only()]
    started, cpu = time.perf_counter(), cpu_seconds()
    full = run_ingest(settings, progress=False, embedders=embedders)
    full_s, full_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if not full.switched or full.embedded != len(corpus.passages):
        raise BenchError(f"the full ingest did not embed every passage: {full.summary()}")
    if bracket:
        embed_runs.append(embed_only())
    started = time.perf_counter()
    again = run_ingest(settings, progress=False, embedders=embedders)
    reingest_s = time.perf_counter() - started
    if again.switched or again.embedded:
        raise BenchError(f"an unchanged re-ingest rebuilt the index: {again.summary()}")
    embed_s = statistics.fmean(embed_runs)
    return {
        "passages": len(corpus.passages),
        "sentences": len(sentences),
        "questions": len(questions),
        "embedders": [e.name for e in embedders],
        "ingest_seconds": round(full_s, 2),
        "embed_only_seconds": round(embed_s, 2),
        "embed_only_runs": [round(x, 2) for x in embed_runs],
        "reingest_seconds": round(reingest_s, 3),
        "ingest_ratio": ratio(full_s, embed_s),
        "ingest_cpu_ratio": ratio(full_cpu, statistics.fmean(embed_cpu)),
        "reingest_ratio": ratio(reingest_s, full_s, 4),
        "build_id": full.build_id,
        "what": "embed_only = passages (title+chapter+text), distinct sentences and passage questions with every model, "
                "batched by encode(); models loaded before both",
    }


def copy_to_chroma_server(
    source: IndexSettings, target: IndexSettings, embedders: list[Embedder]
) -> dict[str, Any]:
    """Build the same index (same vectors) into a Chroma server via the normal ingest path."""
    from eval.bench_corpus import TableEmbedder
    from ingest.live import open_live
    from ingest.store import open_chroma

    index = open_live(source, open_chroma(source))
    tables: dict[str, dict[str, np.ndarray]] = {}
    for embedder in embedders:
        got = index.collections[embedder.name].get(ids=[p.id for p in index.passages], include=["embeddings"])
        by_id = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True))
        tables[embedder.name] = {embedding_input(p): by_id[p.id] for p in index.passages}
    for name, table in tables.items():
        table.update({s.text: v for s, v in zip(index.sentences, index.sentence_vectors[name], strict=True)})
        table.update({q.text: v for q, v in zip(index.questions, index.question_vectors[name], strict=True)})
    table_embedders = [TableEmbedder(e, tables[e.name]) for e in embedders]
    report = run_ingest(target, progress=False, embedders=table_embedders)
    return {"build_id": report.build_id, "passages": report.passages,
            "recomputed_vectors": sum(e.misses for e in table_embedders)}
