"""`python -m eval bench`: latency, ingest cost, throughput and scaling of the
service, all measured in one run on one machine, so that the ratios compare
like with like.

What is measured (every latency over the question file, default the dev set):

- embed_query: the query-embedding step alone, in this process: every model the
  service runs on a question (USE and e5), each through its raw `encode([q])`,
  bypassing the query cache; warm models.
- search / ask: POST /v1/search and /v1/ask to `python -m qa_service serve`
  subprocesses on loopback, one HTTP connection kept alive, warm server. The
  service caches query embeddings, so the headline ("cold") figures come from a
  pass in which every question is new to that server process: /v1/search and
  /v1/ask each get their own server. A second pass over the same questions
  gives the "warm" (cache hit) figures. The passes are interleaved question by
  question with the embedding measurement, so that the ratios see the same
  background load even on a shared machine.
- naive: the naive LangChain pipeline of eval/baselines.py (500/50 character
  chunks, Chroma, USE), in process, first-time questions.
- ingest: a full ingest of the corpus into an empty data directory, divided by
  the time to embed the same inputs in a plain batch loop (passages with every
  model, distinct sentences and passage questions with every model, as ingest
  does); models are loaded before either is timed. Then an unchanged re-ingest, divided by the full one.
- chroma server: the same search pass against a service whose index lives in a
  `chroma run` server on loopback (same vectors, written by the normal ingest path).
- throughput (skipped by --quick): locust, 8 clients, bounded time, first-time
  questions, against 127.0.0.1.
- --quick also times only 100 of the questions (evenly spaced).
- scaling (skipped by --quick): synthetic corpora (eval/bench_corpus.py),
  ingested once into --cache-dir and reused: /v1/search p50 (fused, cold and
  warm, with and without a document filter), dense and lexical retrieval
  in process, and the service's resident memory, at each size.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from corpus import DEFAULT_CORPUS_DIR, Corpus, load_corpus
from corpus.sentences import split_sentences
from eval.servers import Process, bench_service, chroma_server
from ingest.build import INDEX_FORMAT, embedding_input, run_ingest
from ingest.embedders import Embedder, make_embedder
from ingest.passage_questions import load_passage_questions
from ingest.settings import IndexSettings

DEFAULT_SIZES = (1000, 10_000, 100_000)
DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "questions" / "dev.jsonl"
SERVER_TIMEOUT_S = 600.0
HTTP_TIMEOUT_S = 120.0
TOP_K = 10
QUICK_QUESTIONS = 100  # --quick times this many questions (evenly spaced) unless --limit says otherwise
WARM_UP_TEXTS = (
    "预热：失业保险金每月能领多少？",
    "预热：工伤认定需要哪些材料？",
    "warm-up: how is the basic pension calculated?",
    "warm-up: who pays maternity insurance?",
)

# Top-level keys of the JSON report; a part that did not run has null values.
REQUIRED_KEYS = (
    "embed_query_p50_ms",
    "search_p50_ms",
    "search_p95_ms",
    "ask_p50_ms",
    "ask_p95_ms",
    "search_warm_p50_ms",
    "ask_warm_p50_ms",
    "search_ratio",
    "ask_ratio",
    "naive_p50_ms",
    "naive_ratio",
    "ingest_seconds",
    "embed_only_seconds",
    "ingest_ratio",
    "reingest_seconds",
    "reingest_ratio",
    "throughput_rps",
    "throughput_p95_ms",
    "throughput_errors",
    "chroma_server_search_p50_ms",
    "chroma_server_ratio",
    "scaling",
    "scaling_ratio",
    "filter_ratio",
    "service_filter_ratio",
    "targets",
    "meta",
)
# metric -> (largest acceptable value, what it means)
TARGETS: dict[str, tuple[float, str]] = {
    "search_ratio": (1.5, "/v1/search p50 / query-embedding p50"),
    "ask_ratio": (2.5, "/v1/ask p50 / query-embedding p50"),
    "ingest_ratio": (1.3, "full ingest / embedding alone"),
    "reingest_ratio": (0.05, "unchanged re-ingest / full ingest"),
    "scaling_ratio": (2.0, "/v1/search p50 at the largest size / at the smallest"),
    "filter_ratio": (2.0, "dense (Chroma) query with a document filter / without"),
    "service_filter_ratio": (2.0, "/v1/search with a document filter / without"),
    "throughput_errors": (0, "failed requests in the load run"),
}


class BenchError(RuntimeError):
    """The system under test failed during the benchmark."""


@dataclass
class BenchConfig:
    quick: bool = False
    sizes: list[int] = field(default_factory=lambda: list(DEFAULT_SIZES))
    cache_dir: Path | None = None  # default: <data_dir>/bench-cache
    questions_path: Path = DEFAULT_QUESTIONS
    corpus_dir: Path | None = None  # the corpus of the latency/ingest part; default: the bundled one
    limit: int | None = None  # use only this many questions (evenly spaced)
    load_seconds: float = 30.0
    load_users: int = 8
    progress: bool = True

    def __post_init__(self) -> None:
        if any(size <= 0 for size in self.sizes):
            raise ValueError(f"sizes must be positive, got {self.sizes}")
        if self.limit is not None and self.limit <= 0:
            raise ValueError(f"limit must be positive, got {self.limit}")
        if self.load_seconds <= 0 or self.load_users <= 0:
            raise ValueError(f"load seconds and users must be positive, got {self.load_seconds}, {self.load_users}")
        if self.quick and self.limit is None:
            self.limit = QUICK_QUESTIONS


# --------------------------------------------------------------------------- statistics


def pct(values: list[float], p: float) -> float | None:
    return round(float(np.percentile(values, p)), 2) if values else None


def summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50_ms": pct(values, 50), "p95_ms": pct(values, 95),
            "mean_ms": round(statistics.fmean(values), 2) if values else None}


def ratio(numerator: float | None, denominator: float | None, digits: int = 3) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


def _cpu_seconds() -> float:
    """CPU time of this process, every thread (less sensitive than wall time to other load)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_ms(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def target_checks(report: dict[str, Any]) -> dict[str, Any]:
    checks = {}
    for key, (limit, meaning) in TARGETS.items():
        value = report.get(key)
        checks[key] = {"value": value, "target": f"<= {limit}", "meaning": meaning,
                       "met": None if value is None else value <= limit}
    return checks


# --------------------------------------------------------------------------- inputs


def load_question_texts(path: Path, limit: int | None) -> list[str]:
    """Question texts of a question file, validated against the bundled corpus."""
    from eval.questions import load_questions

    questions = load_questions(path, load_corpus(DEFAULT_CORPUS_DIR))
    texts = list(dict.fromkeys(q.question for q in questions))  # a repeated text would hit the cache
    if limit is not None and limit < len(texts):
        texts = [texts[i] for i in sorted({round(i * (len(texts) - 1) / max(1, limit - 1)) for i in range(limit)})]
    if not texts:
        raise ValueError(f"{path}: no questions")
    return texts


def _link_models(data_dir: Path, models_dir: Path) -> None:
    """Converted e5 weights are shared, not converted again per data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    link = data_dir / "models"
    if models_dir.is_dir() and not link.exists():
        link.symlink_to(models_dir.resolve(), target_is_directory=True)


class Log:
    """Phase messages on stderr, with how long each phase took."""

    def __init__(self, enabled: bool) -> None:
        self.console = Console(stderr=True)
        self.enabled = enabled

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        if self.enabled:
            self.console.print(f"[bold]{name}[/] …", highlight=False)
        yield
        if self.enabled:
            self.console.print(f"  done in {time.perf_counter() - started:.1f} s (load average {os.getloadavg()[0]:.1f})",
                               style="dim", highlight=False)

    def note(self, text: str) -> None:
        if self.enabled:
            self.console.print(f"  {text}", style="dim", highlight=False)


# --------------------------------------------------------------------------- HTTP


class Client:
    """POSTs to one service over one kept-alive connection; any non-200 is an error."""

    def __init__(self, server: Process) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT_S)
        self.last_took_ms: float | None = None  # the engine's own timing of the last call

    def post(self, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        try:
            response = self.http.post(path, json=body)
        except httpx.HTTPError as exc:
            code = self.server.popen.poll() if self.server.popen else None
            state = "" if code is None else f" (the service exited with {code}{' = signal ' + str(-code) if code < 0 else ''})"
            raise BenchError(f"{self.server.name}: POST {path}: {type(exc).__name__}: {exc}{state}") from None
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BenchError(f"{self.server.name}: POST {path}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json(), elapsed

    def search(self, query: str, filters: dict[str, list[str]] | None = None) -> tuple[list[str], float]:
        body: dict[str, Any] = {"query": query, "top_k": TOP_K}
        if filters:
            body["filters"] = filters
        data, ms = self.post("/v1/search", body)
        self.last_took_ms = data.get("took_ms")
        return [r["key"] for r in data["results"]], ms

    def ask(self, question: str) -> float:
        data, ms = self.post("/v1/ask", {"question": question})
        self.last_took_ms = data.get("took_ms")
        return ms

    def warm_up(self) -> None:
        for text in WARM_UP_TEXTS:
            self.search(text)
            self.ask(text)

    def close(self) -> None:
        self.http.close()


def start_all(servers: list[Process], timeout_s: float = SERVER_TIMEOUT_S) -> None:
    """Start together (model loading overlaps), then wait for each."""
    for server in servers:
        server.start()
    for server in servers:
        server.wait_ready(timeout_s)


# --------------------------------------------------------------------------- ingest


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
        started, cpu = time.perf_counter(), _cpu_seconds()
        for embedder in embedders:
            embedder.encode(passage_inputs, is_query=False)
            embedder.encode(sentences, is_query=False)
            if questions:
                embedder.encode(questions, is_query=True)
        embed_cpu.append(_cpu_seconds() - cpu)
        return time.perf_counter() - started

    embed_cpu: list[float] = []
    embed_runs = [embed_only()]
    started, cpu = time.perf_counter(), _cpu_seconds()
    full = run_ingest(settings, progress=False, embedders=embedders)
    full_s, full_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
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


# --------------------------------------------------------------------------- in-process retrievers


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


# --------------------------------------------------------------------------- the run


@dataclass
class Rig:
    """The services of the latency part, started together."""

    chroma: Process
    servers: dict[str, Process]  # "search", "ask": embedded Chroma; "chroma": the `chroma run` server
    clients: dict[str, Client]
    rss_ready_mb: float | None


def start_rig(stack: ExitStack, work: Path, local: IndexSettings, models_dir: Path, embedders: list[Embedder],
              while_starting: Callable[[], object]) -> Rig:
    """`chroma run` holding the same index, then three services: /v1/search and
    /v1/ask each get their own (so each sees every question for the first time),
    and one uses the Chroma server. `while_starting` runs while they load."""
    chroma = chroma_server(work / "chroma-server", work)
    stack.callback(chroma.stop)
    start_all([chroma])
    remote = local.model_copy(update={"data_dir": work / "index-chroma-server", "chroma_url": chroma.url})
    _link_models(remote.data_dir, models_dir)
    details = copy_to_chroma_server(local, remote, embedders)
    if details["recomputed_vectors"]:
        raise BenchError(f"the Chroma-server index was not built from the same vectors: {details}")
    servers = {
        "search": bench_service("service-search", local.data_dir, work),
        "ask": bench_service("service-ask", local.data_dir, work),
        "chroma": bench_service("service-chroma-server", remote.data_dir, work, chroma_url=chroma.url),
    }
    for server in servers.values():
        stack.callback(server.stop)
        server.start()
    while_starting()
    for server in servers.values():
        server.wait_ready(SERVER_TIMEOUT_S)
    clients = {name: Client(server) for name, server in servers.items()}
    for client in clients.values():
        stack.callback(client.close)
        client.warm_up()
    return Rig(chroma, servers, clients, servers["search"].rss_mb())


def latency_passes(rig: Rig, texts: list[str], embedders: list[Embedder], doc_filter: dict[str, list[str]]) -> dict[str, Any]:
    """Question by question: the embedding step in process, then /v1/search,
    /v1/ask and /v1/search via the Chroma server, each a first-time question for
    its service; then the same again (cache hits) plus /v1/search with a filter."""
    for embedder in embedders:
        for text in WARM_UP_TEXTS:
            embedder.encode([text], is_query=True)
    search, ask, remote = rig.clients["search"], rig.clients["ask"], rig.clients["chroma"]
    samples: dict[str, list[float]] = {k: [] for k in (
        "embed", "search", "ask", "chroma", "search_engine", "ask_engine",
        "search_warm", "ask_warm", "chroma_warm", "search_warm_filtered")}
    same_rankings = 0

    def embed(text: str) -> None:
        samples["embed"].append(timed_ms(lambda: [e.encode([text], is_query=True) for e in embedders])[1])

    for text in texts:
        embed(text)
        keys, ms = search.search(text)
        samples["search"].append(ms)
        samples["search_engine"].append(search.last_took_ms)
        samples["ask"].append(ask.ask(text))
        samples["ask_engine"].append(ask.last_took_ms)
        remote_keys, ms = remote.search(text)
        samples["chroma"].append(ms)
        same_rankings += keys == remote_keys
    for text in texts:
        embed(text)
        samples["search_warm"].append(search.search(text)[1])
        samples["ask_warm"].append(ask.ask(text))
        samples["chroma_warm"].append(remote.search(text)[1])
        samples["search_warm_filtered"].append(search.search(text, doc_filter)[1])
    latency = {name: summary([v for v in values if v is not None]) for name, values in samples.items()}
    latency["same_rankings_chroma_server"] = f"{same_rankings}/{len(texts)}"
    return latency


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


def run_bench(config: BenchConfig, log: Log | None = None) -> dict[str, Any]:
    from eval.baselines import NaiveLangChain
    from eval.bench_load import run_load
    from qa_service.settings import ServiceSettings

    log = log or Log(config.progress)
    started = time.perf_counter()
    base = ServiceSettings()
    cache_dir = (config.cache_dir or base.data_dir / "bench-cache").resolve()
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = cache_dir / f"run-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    work.mkdir()
    corpus_dir = (config.corpus_dir or DEFAULT_CORPUS_DIR).resolve()
    meta: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "quick": config.quick,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "questions_file": str(config.questions_path),
        "corpus_dir": str(corpus_dir),
        "cache_dir": str(cache_dir),
        "threads_setting": base.threads,
        "method": {
            "embed_query": "USE + e5 encode([question], is_query=True) in this process, query cache bypassed",
            "search, ask": "HTTP on loopback to `python -m qa_service serve`, one kept-alive connection; "
                           "cold = first time the service sees the question (own service each for search and ask), "
                           "warm = the same questions again (query-embedding cache hit)",
            "ratios": "p50s from one interleaved pass: embed, search, ask, chroma-server search per question",
            "naive": "eval.baselines.NaiveLangChain in process (USE), first-time questions",
            "ingest": "fresh data dir, models loaded beforehand; embed_only = passages with every model + "
                      "distinct sentences and passage questions with every model; full mode: mean of an embed loop "
                      "before and after",
            "throughput": "locust, first-time questions (numbered suffix), /v1/search and /v1/ask at random",
            "scaling": "synthetic corpora from eval/bench_corpus.py, vectors derived from real USE vectors, "
                       "cached in cache_dir; services index only USE, without passage questions; "
                       "filter = one of 20 synthetic documents",
        },
    }
    report: dict[str, Any] = {key: None for key in REQUIRED_KEYS}
    details: dict[str, Any] = {}
    ok = False
    try:
        texts = load_question_texts(config.questions_path, config.limit)
        meta["questions"] = len(texts)
        corpus = load_corpus(corpus_dir)

        with log.phase(f"loading models ({', '.join(base.embedders)})"):
            embedders = [make_embedder(name, base) for name in base.embedders]
            for embedder in embedders:
                embedder.warm_up()
            use = next((e for e in embedders if e.name == "use"), None) or make_embedder("use", base)
            use.warm_up()

        local = IndexSettings(corpus_dir=corpus_dir, data_dir=work / "index-embedded", embedders=base.embedders)
        _link_models(local.data_dir, base.models_dir)
        with log.phase(f"ingest: {len(corpus.passages)} passages, full and unchanged"):
            details["ingest"] = measure_ingest(local, embedders, corpus, bracket=not config.quick)
        report.update({k: details["ingest"][k] for k in
                       ("ingest_seconds", "embed_only_seconds", "ingest_ratio", "reingest_seconds", "reingest_ratio")})

        naive = NaiveLangChain(corpus, make_embedder("use", base))
        doc_filter = {"doc_id": [corpus.manifest.documents[0].doc_id]}
        with ExitStack() as stack:
            with log.phase("starting `chroma run` and three services (and the naive pipeline's index)"):
                rig = start_rig(stack, work, local, base.models_dir, embedders, while_starting=naive.warm_up)
            with log.phase(f"latency: {len(texts)} first-time questions, then the same again"):
                details["latency"] = lat = latency_passes(rig, texts, embedders, doc_filter)
            rss_after = rig.servers["search"].rss_mb()
            details["chroma_server"] = {
                "same_rankings": lat.pop("same_rankings_chroma_server"),
                "rss_mb_service": _round(rig.servers["chroma"].rss_mb()),
                "rss_mb_chroma": _round(rig.chroma.rss_mb()),
            }
            if not config.quick:
                with log.phase(f"load: {config.load_users} clients for {config.load_seconds:.0f} s (locust)"):
                    details["throughput"] = run_load(rig.servers["ask"].url, texts, work / "load",
                                                     users=config.load_users, seconds=config.load_seconds)
        with log.phase("naive LangChain pipeline, in process"):
            naive_ms = [timed_ms(lambda t=t: naive.rank(t, TOP_K))[1] for t in texts]
        details["naive"] = summary(naive_ms)
        with log.phase("retrievers in process, the corpus"):
            scaling: dict[str, Any] = {"corpus": {"passages": len(corpus.passages), **with_retrievers({
                "search_cold": lat["search"],
                "search_warm": lat["search_warm"],
                "search_warm_filtered": lat["search_warm_filtered"],
                "filter": doc_filter,
                "rss_mb_ready": _round(rig.rss_ready_mb),
                "rss_mb_after": _round(rss_after),
            }, local, use, texts, base.candidates)}}
        if not config.quick:
            scaling.update(scaling_rows(config.sizes, cache_dir, work, texts, use, base.candidates, log))

        report.update({
            "embed_query_p50_ms": lat["embed"]["p50_ms"],
            "search_p50_ms": lat["search"]["p50_ms"],
            "search_p95_ms": lat["search"]["p95_ms"],
            "ask_p50_ms": lat["ask"]["p50_ms"],
            "ask_p95_ms": lat["ask"]["p95_ms"],
            "search_warm_p50_ms": lat["search_warm"]["p50_ms"],
            "ask_warm_p50_ms": lat["ask_warm"]["p50_ms"],
            "naive_p50_ms": details["naive"]["p50_ms"],
            "chroma_server_search_p50_ms": lat["chroma"]["p50_ms"],
            "scaling": scaling,
        })
        report["search_ratio"] = ratio(report["search_p50_ms"], report["embed_query_p50_ms"])
        report["ask_ratio"] = ratio(report["ask_p50_ms"], report["embed_query_p50_ms"])
        report["naive_ratio"] = ratio(report["naive_p50_ms"], report["search_p50_ms"])
        report["chroma_server_ratio"] = ratio(report["chroma_server_search_p50_ms"], report["search_p50_ms"])
        if "throughput" in details:
            report["throughput_rps"] = details["throughput"]["rps"]
            report["throughput_p95_ms"] = details["throughput"]["p95_ms"]
            report["throughput_errors"] = details["throughput"]["errors"]
        synthetic = [k for k in scaling if k != "corpus"]
        if len(synthetic) >= 2:
            small, large = scaling[synthetic[0]], scaling[synthetic[-1]]
            report["scaling_ratio"] = ratio(large["search_cold"]["p50_ms"], small["search_cold"]["p50_ms"])
            details["scaling_ratios"] = {
                name: ratio(large[name]["p50_ms"], small[name]["p50_ms"])
                for name in ("search_cold", "search_warm", "search_warm_filtered", "dense", "lexical")
            }
            details["scaling_ratios"]["sizes"] = f"{synthetic[-1]} / {synthetic[0]}"
        at = synthetic[-1] if synthetic else "corpus"
        report["filter_ratio"] = scaling[at]["filter_ratio"]
        report["service_filter_ratio"] = scaling[at]["service_filter_ratio"]
        details["filter_ratios_at"] = at
        ok = True
    finally:
        meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        meta["seconds"] = round(time.perf_counter() - started, 1)
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log.note(f"logs kept in {work}")
    report["targets"] = target_checks(report)
    report["meta"] = meta
    report["details"] = details
    return report


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- the table


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _mark(report: dict[str, Any], key: str) -> str:
    met = report["targets"].get(key, {}).get("met")
    return "" if met is None else ("[green]met[/]" if met else "[red]missed[/]")


def bench_table(report: dict[str, Any]) -> Table:
    meta, details = report["meta"], report.get("details", {})
    table = Table(
        title=f"python -m eval bench{' --quick' if meta['quick'] else ''} — {meta['date']}, {meta['cpus']} CPUs, "
              f"load average {meta['load_average_start'][0]:.1f}→{meta['load_average_end'][0]:.1f}, "
              f"{meta.get('questions', '?')} questions",
        title_justify="left",
    )
    for name, justify in (("measure", "left"), ("value", "right"), ("target", "right"), ("", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    lat = details.get("latency", {})

    def row(label: str, value: str, target: str = "", key: str | None = None) -> None:
        table.add_row(label, value, target, _mark(report, key) if key else "")

    row("query embedding p50 (USE + e5, in process)", _ms(report["embed_query_p50_ms"]))
    row("/v1/search p50 / p95, first-time questions",
        f"{_ms(report['search_p50_ms'])} / {_ms(report['search_p95_ms'])}")
    row("/v1/ask p50 / p95, first-time questions", f"{_ms(report['ask_p50_ms'])} / {_ms(report['ask_p95_ms'])}")
    row("/v1/search, /v1/ask p50, cached embedding (repeat)",
        f"{_ms(report['search_warm_p50_ms'])}, {_ms(report['ask_warm_p50_ms'])}")
    if "search_engine" in lat:
        row("  of which inside the engine (took_ms p50), search / ask",
            f"{_ms(lat['search_engine']['p50_ms'])} / {_ms(lat['ask_engine']['p50_ms'])}")
    row("search ratio = search p50 / embedding p50", _x(report["search_ratio"]), "≤ 1.5", "search_ratio")
    row("ask ratio = ask p50 / embedding p50", _x(report["ask_ratio"]), "≤ 2.5", "ask_ratio")
    row("naive LangChain p50 (in process, USE)", _ms(report["naive_p50_ms"]))
    row("naive ratio = naive p50 / search p50", _x(report["naive_ratio"]))
    table.add_section()
    ingest = details.get("ingest", {})
    row(f"full ingest ({ingest.get('passages', '?')} passages, {ingest.get('sentences', '?')} sentences)",
        f"{report['ingest_seconds']} s" if report["ingest_seconds"] is not None else "–")
    row("embedding alone (same passages and sentences)",
        f"{report['embed_only_seconds']} s" if report["embed_only_seconds"] is not None else "–")
    row("ingest ratio = full ingest / embedding alone", _x(report["ingest_ratio"]), "≤ 1.3", "ingest_ratio")
    if ingest.get("ingest_cpu_ratio") is not None:
        row("  same ratio in CPU seconds", _x(ingest["ingest_cpu_ratio"]))
    row("unchanged re-ingest", f"{report['reingest_seconds']} s" if report["reingest_seconds"] is not None else "–")
    row("re-ingest ratio = re-ingest / full ingest", _x(report["reingest_ratio"]), "≤ 0.05", "reingest_ratio")
    table.add_section()
    throughput = details.get("throughput")
    if throughput:
        row(f"throughput, {throughput['users']} clients, {throughput['seconds']:.0f} s, first-time questions",
            f"{report['throughput_rps']:.1f} req/s")
        row("  latency p50 / p95 under load",
            f"{_ms(throughput['p50_ms'])} / {_ms(report['throughput_p95_ms'])}")
        row("  failed requests", str(report["throughput_errors"]), "0", "throughput_errors")
    else:
        row("throughput (load run)", "skipped (--quick)")
    chroma = details.get("chroma_server", {})
    row(f"/v1/search p50 via `chroma run` (rankings equal: {chroma.get('same_rankings', '?')})",
        _ms(report["chroma_server_search_p50_ms"]))
    row("  chroma-server p50 / embedded p50", _x(report["chroma_server_ratio"]))
    if "search_warm" in lat:
        row("  warm: embedded vs chroma server",
            f"{_ms(lat['search_warm']['p50_ms'])} vs {_ms(lat['chroma_warm']['p50_ms'])}")
    table.add_section()
    for label, size in (report.get("scaling") or {}).items():
        name = "the corpus" if label == "corpus" else "synthetic"
        row(f"[bold]{size['passages']} passages[/] ({name})", f"RSS {size['rss_mb_after'] or 0:.0f} MiB")
        row("  /v1/search p50 cold / warm / warm+filter",
            f"{_ms(size['search_cold']['p50_ms'])} / {_ms(size['search_warm']['p50_ms'])} / "
            f"{_ms(size['search_warm_filtered']['p50_ms'])}")
        row("  dense / +filter, lexical / +filter (p50)",
            f"{_ms(size['dense']['p50_ms'])} / {_ms(size['dense_filtered']['p50_ms'])}, "
            f"{_ms(size['lexical']['p50_ms'])} / {_ms(size['lexical_filtered']['p50_ms'])}")
    ratios = details.get("scaling_ratios")
    if ratios:
        row(f"scaling ratio: /v1/search p50 {ratios['sizes']} passages", _x(report["scaling_ratio"]), "≤ 2",
            "scaling_ratio")
        row("  warm, dense, lexical",
            f"{_x(ratios['search_warm'])}, {_x(ratios['dense'])}, {_x(ratios['lexical'])}")
    elif report.get("meta", {}).get("quick"):
        row("scaling corpora", "skipped (--quick)")
    at = details.get("filter_ratios_at", "corpus")
    row(f"filter ratio, Chroma dense ({at})", _x(report["filter_ratio"]), "≤ 2", "filter_ratio")
    row(f"filter ratio, /v1/search ({at})", _x(report["service_filter_ratio"]), "≤ 2", "service_filter_ratio")
    return table
