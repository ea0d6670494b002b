"""`python -m eval bench`: latency, start-up, memory, ingest cost, throughput
and scaling of the service, all measured in one run on one machine, so that
the ratios compare like with like.

What is measured (every latency over the question file, default the dev set):

- embedding: the query-embedding step alone, in this process, each model and
  e5 backend through its raw `encode([q])` (query cache bypassed, warm
  models): USE, e5 on onnxruntime and e5 on PyTorch. embed_query is the sum of
  what the services run (USE + e5 on SIQA_E5_BACKEND).
- naive: the naive LangChain pipeline of eval/baselines.py (500/50 character
  chunks, Chroma, USE), in process, first-time questions: the floor the
  service is measured against.
- search / ask: POST /v1/search and /v1/ask to `python -m qa_service serve`
  subprocesses on loopback, one HTTP connection kept alive, warm server. The
  service caches query embeddings, so the headline ("cold") figures come from a
  pass in which every question is new to that server process: /v1/search and
  /v1/ask each get their own server. A second pass over the same questions
  gives the "warm" (cache hit) figures. Embedding, naive pipeline and HTTP
  calls are interleaved question by question, so that every ratio sees the
  same background load even on a shared machine.
- start-up: seconds from starting a service to its first 200 on /readyz, and
  its resident memory then, on each e5 backend, in alternating rounds with a
  bare `import sentence_transformers` (eval/bench_startup.py).
- ingest: a full ingest of the corpus into an empty data directory, divided by
  the time to embed the same inputs in a plain batch loop (passages with every
  model, distinct sentences and passage questions with every model, as ingest
  does); models are loaded before either is timed. Then an unchanged re-ingest, divided by the full one.
- chroma server: the same search pass against a service whose index lives in a
  `chroma run` server on loopback (same vectors, written by the normal ingest path).
- throughput: locust, 8 and then 16 clients without think time, bounded time
  (30 s each, 15 s with --quick), first-time questions, against 127.0.0.1.
- --quick also times only 100 of the questions (evenly spaced) and does two
  start-up rounds instead of three.
- scaling (skipped by --quick): synthetic corpora (eval/bench_corpus.py),
  ingested once into --cache-dir and reused: /v1/search p50 (fused, cold and
  warm, with and without a document filter), dense and lexical retrieval
  in process, and the service's resident memory, at each size.
"""

from __future__ import annotations

import os
import platform
import shutil
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from eval.bench_http import TOP_K
from eval.bench_ingest import measure_ingest
from eval.bench_latency import embed_label, latency_passes, link_models, start_rig
from eval.bench_scaling import scaling_rows, with_retrievers
from eval.bench_startup import measure_startup
from eval.bench_stats import BenchError, Log, process_cpu_seconds, ratio, rounded, summary, target_checks
from eval.bench_table import bench_table
from ingest.embedders import Embedder, make_embedder
from ingest.settings import E5Backend, IndexSettings

__all__ = ["REQUIRED_KEYS", "TARGETS", "BenchConfig", "BenchError", "bench_table", "ratio", "run_bench",
           "summary"]

DEFAULT_SIZES = (1000, 10_000, 100_000)
DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "questions" / "dev.jsonl"
QUICK_QUESTIONS = 100  # --quick times this many questions (evenly spaced) unless --limit says otherwise
LOAD_SECONDS, QUICK_LOAD_SECONDS = 30.0, 15.0
LOAD_USERS = (8, 16)
STARTUP_ROUNDS, QUICK_STARTUP_ROUNDS = 3, 2
THROUGHPUT_BEFORE_RPS = 13.0  # 8 clients, e5 on PyTorch (13.1 in reports/bench-full-6.json)

# Top-level keys of the JSON report; a part that did not run has null values.
REQUIRED_KEYS = (
    "embed_query_p50_ms",
    "embed_use_p50_ms",
    "embed_e5_onnx_p50_ms",
    "embed_e5_torch_p50_ms",
    "e5_torch_onnx_ratio",
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
    "search_naive_ratio",
    "ask_naive_ratio",
    "startup_seconds",
    "startup_torch_seconds",
    "import_sentence_transformers_seconds",
    "startup_ratio",
    "rss_after_start_mb",
    "rss_after_start_torch_mb",
    "ingest_seconds",
    "embed_only_seconds",
    "ingest_ratio",
    "reingest_seconds",
    "reingest_ratio",
    "throughput_rps",
    "throughput_p95_ms",
    "throughput_16_rps",
    "throughput_16_p95_ms",
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
# metric -> (direction, limit, what it means)
TARGETS: dict[str, tuple[str, float, str]] = {
    "search_naive_ratio": ("<=", 5.5, "first-time /v1/search p50 over HTTP / naive pipeline p50 in process"),
    "ask_naive_ratio": ("<=", 6.0, "first-time /v1/ask p50 over HTTP / naive pipeline p50 in process"),
    "search_ratio": ("<=", 1.5, "/v1/search p50 / query-embedding p50"),
    "ask_ratio": ("<=", 2.5, "/v1/ask p50 / query-embedding p50"),
    "startup_ratio": ("<=", 1.0, "start to /readyz 200 / `import sentence_transformers` alone"),
    "rss_after_start_mb": ("<=", 800.0, "service resident memory at ready, MiB"),
    "throughput_rps": (">=", round(2.5 * THROUGHPUT_BEFORE_RPS, 1), "requests/s, 8 clients (2.5x the 13 before ONNX)"),
    "ingest_ratio": ("<=", 1.3, "full ingest / embedding alone"),
    "reingest_ratio": ("<=", 0.05, "unchanged re-ingest / full ingest"),
    "scaling_ratio": ("<=", 2.0, "/v1/search p50 at the largest size / at the smallest"),
    "filter_ratio": ("<=", 2.0, "dense (Chroma) query with a document filter / without"),
    "service_filter_ratio": ("<=", 2.0, "/v1/search with a document filter / without"),
    "throughput_errors": ("<=", 0, "failed requests in the load runs"),
}


@dataclass
class BenchConfig:
    quick: bool = False
    sizes: list[int] = field(default_factory=lambda: list(DEFAULT_SIZES))
    cache_dir: Path | None = None  # default: <data_dir>/bench-cache
    questions_path: Path = DEFAULT_QUESTIONS
    corpus_dir: Path | None = None  # the corpus of the latency/ingest part; default: the bundled one
    limit: int | None = None  # use only this many questions (evenly spaced)
    load_seconds: float | None = None  # each load run; default LOAD_SECONDS, QUICK_LOAD_SECONDS with --quick
    load_users: list[int] = field(default_factory=lambda: list(LOAD_USERS))
    progress: bool = True

    def __post_init__(self) -> None:
        if any(size <= 0 for size in self.sizes):
            raise ValueError(f"sizes must be positive, got {self.sizes}")
        if self.limit is not None and self.limit <= 0:
            raise ValueError(f"limit must be positive, got {self.limit}")
        if self.load_seconds is None:
            self.load_seconds = QUICK_LOAD_SECONDS if self.quick else LOAD_SECONDS
        if self.load_seconds <= 0 or not self.load_users or any(u <= 0 for u in self.load_users):
            raise ValueError(f"load seconds and users must be positive, got {self.load_seconds}, {self.load_users}")
        if self.quick and self.limit is None:
            self.limit = QUICK_QUESTIONS


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


def _meta(config: BenchConfig, base: Any, cache_dir: Path, corpus_dir: Path) -> dict[str, Any]:
    return {
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
        "e5_backend": E5Backend(base.e5_backend).value,
        "method": {
            "embed": "encode([question], is_query=True) in this process per model and e5 backend, query cache "
                     "bypassed; embed_query = what the services run (USE + e5 on the serving backend)",
            "search, ask": "HTTP on loopback to `python -m qa_service serve`, one kept-alive connection; "
                           "cold = first time the service sees the question (own service each for search and ask), "
                           "warm = the same questions again (query-embedding cache hit)",
            "naive": "eval.baselines.NaiveLangChain in process (USE), first-time questions",
            "ratios": "p50s from one interleaved pass: embeddings, naive, search, ask, chroma-server search "
                      "per question",
            "startup": "alternating rounds: import sentence_transformers; a service per e5 backend, start to "
                       "/readyz 200, RSS then",
            "ingest": "fresh data dir, models loaded beforehand; embed_only = passages with every model + "
                      "distinct sentences and passage questions with every model; full mode: mean of an embed loop "
                      "before and after",
            "throughput": "locust, first-time questions (numbered suffix), /v1/search and /v1/ask at random, "
                          "no think time",
            "scaling": "synthetic corpora from eval/bench_corpus.py, vectors derived from real USE vectors, "
                       "cached in cache_dir; services index only USE, without passage questions; "
                       "filter = one of 20 synthetic documents",
        },
    }


def _load_models(base: Any) -> tuple[list[Embedder], list[Embedder], Embedder]:
    """The serving embedders, e5 on the other fp32 backend for comparison, and USE."""
    serving = [make_embedder(name, base) for name in base.embedders]
    extra: list[Embedder] = []
    if "e5" in base.embedders:
        extra = [make_embedder("e5", base.model_copy(update={"e5_backend": b}))
                 for b in (E5Backend.ONNX, E5Backend.TORCH) if b != E5Backend(base.e5_backend)]
    for embedder in (*serving, *extra):
        embedder.warm_up()
    use = next((e for e in serving if e.name == "use"), None) or make_embedder("use", base)
    use.warm_up()
    return serving, extra, use


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
    meta = _meta(config, base, cache_dir, corpus_dir)
    report: dict[str, Any] = {key: None for key in REQUIRED_KEYS}
    details: dict[str, Any] = {}
    ok = False
    try:
        texts = load_question_texts(config.questions_path, config.limit)
        meta["questions"] = len(texts)
        corpus = load_corpus(corpus_dir)

        with log.phase(f"loading models ({', '.join(base.embedders)}; e5 on every backend)"):
            embedders, extra, use = _load_models(base)

        local = IndexSettings(corpus_dir=corpus_dir, data_dir=work / "index-embedded", embedders=base.embedders,
                              e5_backend=base.e5_backend)
        link_models(local.data_dir, base.models_dir)
        with log.phase(f"ingest: {len(corpus.passages)} passages, full and unchanged"):
            details["ingest"] = measure_ingest(local, embedders, corpus, bracket=not config.quick)
        report.update({k: details["ingest"][k] for k in
                       ("ingest_seconds", "embed_only_seconds", "ingest_ratio", "reingest_seconds", "reingest_ratio")})

        serving_backend = E5Backend(base.e5_backend).value
        backends = [serving_backend, *(embed_label(e).split("_", 1)[1] for e in extra)]
        rounds = QUICK_STARTUP_ROUNDS if config.quick else STARTUP_ROUNDS
        with log.phase(f"start-up: {rounds} rounds of import sentence_transformers and a service on {backends}"):
            details["startup"] = startup = measure_startup(local.data_dir, work, backends, rounds, log)

        naive = NaiveLangChain(corpus, make_embedder("use", base))
        doc_filter = {"doc_id": [corpus.manifest.documents[0].doc_id]}
        with ExitStack() as stack:
            with log.phase("starting `chroma run` and three services (and the naive pipeline's index)"):
                rig = start_rig(stack, work, local, base.models_dir, embedders, while_starting=naive.warm_up)
            with log.phase(f"latency: {len(texts)} first-time questions, then the same again"):
                details["latency"] = lat = latency_passes(rig, texts, embedders, extra,
                                                          lambda t: naive.rank(t, TOP_K), doc_filter)
            rss_after = rig.servers["search"].rss_mb()
            details["chroma_server"] = {
                "same_rankings": lat.pop("same_rankings_chroma_server"),
                "rss_mb_service": rounded(rig.servers["chroma"].rss_mb()),
                "rss_mb_chroma": rounded(rig.chroma.rss_mb()),
            }
            details["throughput"] = {}
            target = rig.servers["ask"]
            number = 0  # every run asks new questions: no run meets another's cached embeddings
            for users in config.load_users:
                with log.phase(f"load: {users} clients for {config.load_seconds:.0f} s (locust)"):
                    cpu = process_cpu_seconds(target.pid)
                    run = run_load(target.url, texts, work / f"load-{users}", users=users,
                                   seconds=float(config.load_seconds or LOAD_SECONDS), first_number=number)
                    number = run["next_number"]
                    used = process_cpu_seconds(target.pid)
                    # what a request costs the service, whatever else the machine runs
                    if cpu is not None and used is not None and run["requests"]:
                        run["service_cpu_ms_per_request"] = round((used - cpu) * 1000 / run["requests"], 1)
                        run["service_cpu_share"] = round((used - cpu) / run["seconds"], 2)
                    details["throughput"][str(users)] = run
        details["naive"] = lat["naive"]
        with log.phase("retrievers in process, the corpus"):
            scaling: dict[str, Any] = {"corpus": {"passages": len(corpus.passages), **with_retrievers({
                "search_cold": lat["search"],
                "search_warm": lat["search_warm"],
                "search_warm_filtered": lat["search_warm_filtered"],
                "filter": doc_filter,
                "rss_mb_ready": rounded(rig.rss_ready_mb),
                "rss_mb_after": rounded(rss_after),
            }, local, use, texts, base.candidates)}}
        if not config.quick:
            scaling.update(scaling_rows(config.sizes, cache_dir, work, texts, use, base.candidates, log))

        report.update(_headline(lat, startup, details["throughput"], serving_backend))
        report["scaling"] = scaling
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
    report["targets"] = target_checks(report, TARGETS)
    report["meta"] = meta
    report["details"] = details
    return report


def _p50(latency: dict[str, Any], name: str) -> float | None:
    return latency.get(name, {}).get("p50_ms")


def _headline(lat: dict[str, Any], startup: dict[str, Any], throughput: dict[str, Any], backend: str) -> dict[str, Any]:
    seconds, rss = startup["median_seconds"], startup["rss_mb_at_ready"]
    out: dict[str, Any] = {
        "embed_query_p50_ms": _p50(lat, "embed"),
        "embed_use_p50_ms": _p50(lat, "embed_use"),
        "embed_e5_onnx_p50_ms": _p50(lat, "embed_e5_onnx"),
        "embed_e5_torch_p50_ms": _p50(lat, "embed_e5_torch"),
        "search_p50_ms": lat["search"]["p50_ms"],
        "search_p95_ms": lat["search"]["p95_ms"],
        "ask_p50_ms": lat["ask"]["p50_ms"],
        "ask_p95_ms": lat["ask"]["p95_ms"],
        "search_warm_p50_ms": lat["search_warm"]["p50_ms"],
        "ask_warm_p50_ms": lat["ask_warm"]["p50_ms"],
        "naive_p50_ms": lat["naive"]["p50_ms"],
        "chroma_server_search_p50_ms": lat["chroma"]["p50_ms"],
        "startup_seconds": seconds.get(backend),
        "startup_torch_seconds": seconds.get(E5Backend.TORCH.value),
        "import_sentence_transformers_seconds": seconds["import_sentence_transformers"],
        "rss_after_start_mb": rss.get(backend),
        "rss_after_start_torch_mb": rss.get(E5Backend.TORCH.value),
    }
    out["e5_torch_onnx_ratio"] = ratio(out["embed_e5_torch_p50_ms"], out["embed_e5_onnx_p50_ms"])
    out["search_ratio"] = ratio(out["search_p50_ms"], out["embed_query_p50_ms"])
    out["ask_ratio"] = ratio(out["ask_p50_ms"], out["embed_query_p50_ms"])
    out["naive_ratio"] = ratio(out["naive_p50_ms"], out["search_p50_ms"])
    out["search_naive_ratio"] = ratio(out["search_p50_ms"], out["naive_p50_ms"])
    out["ask_naive_ratio"] = ratio(out["ask_p50_ms"], out["naive_p50_ms"])
    out["chroma_server_ratio"] = ratio(out["chroma_server_search_p50_ms"], out["search_p50_ms"])
    out["startup_ratio"] = ratio(out["startup_seconds"], out["import_sentence_transformers_seconds"])
    runs = list(throughput.values())
    if runs:
        out["throughput_rps"], out["throughput_p95_ms"] = runs[0]["rps"], runs[0]["p95_ms"]
        out["throughput_errors"] = sum(r["errors"] for r in runs)
    if "16" in throughput:
        out["throughput_16_rps"], out["throughput_16_p95_ms"] = throughput["16"]["rps"], throughput["16"]["p95_ms"]
    return out

