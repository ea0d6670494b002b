"""The scaling part of `python -m eval bench`: synthetic corpora
(eval/bench_corpus.py) built once and cached, a service on each (first-time,
repeated and filtered /v1/search, memory), and the dense and lexical
retrievers in process, with and without a document filter."""

from __future__ import annotations

import gc
import json
import shutil
import time
from pathlib import Path
from typing import Any

from corpus import DEFAULT_CORPUS_DIR, Corpus, load_corpus
from eval.bench_http import Client, start_all
from eval.servers import Process, bench_service
from eval.bench_stats import Log, ratio, summary, timed_ms
from ingest.build import INDEX_FORMAT, run_ingest
from ingest.embedders import Embedder
from ingest.settings import IndexSettings


def measure_retrievers(
    settings: IndexSettings, use: Embedder, texts: list[str], doc_filter: dict[str, list[str]], candidates: int
) -> dict[str, Any]:
    """Dense (USE, Chroma) and lexical (BM25) retrieval through the retrievers'
    public `search`, with and without a document filter; query embeddings are
    cached first, so the dense figures are the Chroma query alone."""
    from chromadb.api.shared_system_client import SharedSystemClient

    from ingest.live import open_live
    from ingest.store import open_chroma
    from qa_service.normalize import detect_lang, normalize_question
    from qa_service.retrieval import DenseRetriever, LexicalRetriever, Query

    index = open_live(settings, open_chroma(settings))
    try:
        queries = [Query(t, detect_lang(t)) for t in (normalize_question(x) for x in texts)]
        dense, lexical = DenseRetriever(use), LexicalRetriever()
        for query in queries:  # fill the query-embedding cache and load the HNSW index
            dense.search(index, query, candidates, {})
        runs = {
            "dense": lambda q: dense.search(index, q, candidates, {}),
            "dense_filtered": lambda q: dense.search(index, q, candidates, doc_filter),
            "lexical": lambda q: lexical.search(index, q, candidates, {}),
            "lexical_filtered": lambda q: lexical.search(index, q, candidates, doc_filter),
        }
        out: dict[str, Any] = {}
        for name, run in runs.items():
            out[name] = summary([timed_ms(lambda q=q: run(q))[1] for q in queries])
        return out
    finally:
        del index
        SharedSystemClient.clear_system_cache()
        gc.collect()


# --------------------------------------------------------------------------- scaling


def ensure_scaling_index(
    cache_dir: Path, size: int, source: Corpus, use: Embedder, log: Log
) -> tuple[IndexSettings, dict[str, Any]]:
    """The synthetic corpus of `size` passages (from `source`, the bundled corpus)
    and its index, built once and cached."""
    from eval.bench_corpus import (
        GENERATOR_VERSION,
        TableEmbedder,
        derived_table,
        fidelity,
        sentence_pool,
        write_synthetic_corpus,
    )
    from ingest.version import INDEX_FILE, current_build_id, versions_dir

    # a new index format needs a new build: the cached one could not be opened
    folder = cache_dir / f"synthetic-{size}-g{GENERATOR_VERSION}-f{INDEX_FORMAT}"
    # the passage questions are written for the bundled corpus' passages, not for synthetic ones
    settings = IndexSettings(
        corpus_dir=folder / "corpus", data_dir=folder / "data", embedders=["use"], passage_questions=None
    )
    ready = folder / "bench-ready.json"
    if ready.exists():
        info = json.loads(ready.read_text(encoding="utf-8"))
        build_id = current_build_id(settings.index_dir)
        if build_id == info.get("build_id") and (versions_dir(settings.index_dir) / build_id / INDEX_FILE).exists():
            return settings, {**info, "cached": True}
    log.note(f"building the {size}-passage corpus and index (once; cached in {folder})")
    shutil.rmtree(folder, ignore_errors=True)
    write_synthetic_corpus(settings.corpus_dir, size, source)
    pool = sentence_pool(source)
    sentence_vectors = dict(zip(pool, use.encode(pool, is_query=False), strict=True))
    corpus = load_corpus(settings.corpus_dir)
    table = derived_table(corpus.passages, sentence_vectors, use)
    embedder = TableEmbedder(use, table)
    started = time.perf_counter()
    report = run_ingest(settings, progress=log.enabled, embedders=[embedder])
    info = {
        "size": size,
        "documents": len(corpus.manifest.documents),
        "passages": report.passages,
        "build_id": report.build_id,
        "ingest_seconds": round(time.perf_counter() - started, 1),
        "vectors_from_model": embedder.misses,
        "fidelity": fidelity(corpus.passages, table, use),
        "vectors": "sentences: real USE vectors; passages: length-weighted mean of the real vectors of their "
                   "heading and sentences (eval/bench_corpus.py)",
    }
    ready.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return settings, {**info, "cached": False}


def measure_http(server: Process, texts: list[str], doc_filter: dict[str, list[str]]) -> dict[str, Any]:
    """/v1/search on a fresh service: first-time questions, then again (cached
    embedding) with and without a document filter; resident memory."""
    client = Client(server)
    try:
        client.warm_up()
        rss_ready = server.rss_mb()
        cold = [client.search(t)[1] for t in texts]
        warm, filtered = [], []
        for text in texts:
            warm.append(client.search(text)[1])
            filtered.append(client.search(text, doc_filter)[1])
        rss_after = server.rss_mb()
    finally:
        client.close()
    return {
        "search_cold": summary(cold),
        "search_warm": summary(warm),
        "search_warm_filtered": summary(filtered),
        "filter": doc_filter,
        "rss_mb_ready": round(rss_ready, 1) if rss_ready else None,
        "rss_mb_after": round(rss_after, 1) if rss_after else None,
    }


def with_retrievers(
    row: dict[str, Any], settings: IndexSettings, use: Embedder, texts: list[str], candidates: int
) -> dict[str, Any]:
    row = {**row, **measure_retrievers(settings, use, texts, row["filter"], candidates)}
    row["service_filter_ratio"] = ratio(row["search_warm_filtered"]["p50_ms"], row["search_warm"]["p50_ms"])
    row["filter_ratio"] = ratio(row["dense_filtered"]["p50_ms"], row["dense"]["p50_ms"])
    return row


def scaling_rows(
    sizes: list[int], cache_dir: Path, work: Path, texts: list[str], use: Embedder, candidates: int, log: Log
) -> dict[str, Any]:
    """Per synthetic size: a service on the cached index (HTTP passes, memory), then the retrievers in process."""
    source = load_corpus(DEFAULT_CORPUS_DIR)
    rows: dict[str, Any] = {}
    for size in sorted(sizes):
        with log.phase(f"scaling: {size} synthetic passages"):
            settings, info = ensure_scaling_index(cache_dir, size, source, use, log)
            server = bench_service(f"service-{size}", settings.data_dir, work)
            try:
                startup = time.perf_counter()
                start_all([server])
                startup_s = round(time.perf_counter() - startup, 1)
                row = measure_http(server, texts, {"doc_id": ["synthetic-01"]})
            finally:
                server.stop()
            rows[str(size)] = {"passages": info["passages"], "index": info, "startup_seconds": startup_s,
                               **with_retrievers(row, settings, use, texts, candidates)}
    return rows
