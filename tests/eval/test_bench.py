"""`python -m eval bench`: that it runs and writes a well-formed report. No
assertion here is about speed: timings depend on the machine and its load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from corpus.sentences import split_sentences
from eval.bench import REQUIRED_KEYS, BenchConfig, ratio, summary
from eval.bench_corpus import ANCHOR_DOC, TableEmbedder, derived_table, sentence_pool, write_synthetic_corpus
from eval.bench_load import locust_available, run_load
from ingest.build import embedding_input
from ingest.embedders import Embedder

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "eval" / "questions" / "dev.jsonl"


def run_cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "eval", "bench", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


class CountingEmbedder(Embedder):
    """A stand-in model: the vector of a text is [len(text), 1, 0, …], normalised."""

    name = "use"
    model_id = "counting"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def _load(self) -> None:
        pass

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        self.calls.append(list(texts))
        vectors = np.zeros((len(texts), 4), dtype=np.float32)
        vectors[:, 0] = [len(t) for t in texts]
        vectors[:, 1] = 1.0
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# --------------------------------------------------------------------------- no model, no server


def test_config_rejects_bad_values_naming_them() -> None:
    with pytest.raises(ValueError, match=r"\[1000, 0\]"):
        BenchConfig(sizes=[1000, 0])
    with pytest.raises(ValueError, match="limit must be positive, got 0"):
        BenchConfig(limit=0)
    assert BenchConfig(quick=True).limit == 100  # --quick times 100 questions unless told otherwise
    assert (BenchConfig(quick=True).load_seconds, BenchConfig().load_seconds) == (15.0, 30.0)
    with pytest.raises(ValueError, match=r"\[8, 0\]"):
        BenchConfig(load_users=[8, 0])


def test_summary_and_ratio() -> None:
    values = [float(x) for x in range(1, 101)]
    block = summary(values)
    assert block["n"] == 100
    assert block["p50_ms"] == pytest.approx(50.5)
    assert block["p95_ms"] == pytest.approx(1 + 0.95 * 99)  # linear interpolation, as numpy
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None and ratio(3.0, 0.0) is None


def test_synthetic_corpus_loads_through_the_corpus_package(tmp_path: Path) -> None:
    source = load_corpus(DEFAULT_CORPUS_DIR)
    write_synthetic_corpus(tmp_path, 50, source)
    corpus = load_corpus(tmp_path)  # verifies every sha256 in the manifest
    synthetic = [p for p in corpus.passages if p.doc_id != ANCHOR_DOC]
    law = [p for p in corpus.passages if p.doc_id == ANCHOR_DOC]
    assert len(synthetic) == 50
    assert len(law) == len([p for p in source.passages if p.doc_id == ANCHOR_DOC])
    assert len({p.key for p in corpus.passages}) == len(corpus.passages)
    assert len(corpus.manifest.documents) == 1 + 20
    pool = set(sentence_pool(source))
    for passage in synthetic:
        sentences = [s.text for s in split_sentences(passage)]
        assert 2 <= len(sentences) <= 3
        assert set(sentences) <= pool, passage.key  # split back into exactly the real sentences


def test_synthetic_corpus_is_reproducible(tmp_path: Path) -> None:
    source = load_corpus(DEFAULT_CORPUS_DIR)
    write_synthetic_corpus(tmp_path / "a", 30, source)
    write_synthetic_corpus(tmp_path / "b", 30, source)
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()


def test_table_embedder_serves_known_vectors_and_counts_misses() -> None:
    real = CountingEmbedder()
    known = np.array([0.0, 0.0, 1.0, 0.0], dtype=np.float32)
    table = TableEmbedder(real, {"known": known})
    table.warm_up()
    vectors = table.encode(["known", "unknown", "known"], is_query=False)
    assert table.misses == 1  # the warm-up text does not count
    assert real.calls[-1] == ["unknown"]
    np.testing.assert_array_equal(vectors[0], known)
    np.testing.assert_array_equal(vectors[2], known)
    assert vectors[1][0] == pytest.approx(7 / np.sqrt(7**2 + 1))
    assert (table.name, table.model_id) == (real.name, real.model_id)


def test_derived_passage_vector_is_the_length_weighted_mean(tmp_path: Path) -> None:
    source = load_corpus(DEFAULT_CORPUS_DIR)
    write_synthetic_corpus(tmp_path, 3, source)
    passage = next(p for p in load_corpus(tmp_path).passages if p.doc_id != ANCHOR_DOC)
    sentences = [s.text for s in split_sentences(passage)]
    given = {text: np.eye(4, dtype=np.float32)[i + 1] for i, text in enumerate(sentences)}
    real = CountingEmbedder()
    table = derived_table([passage], given, real)
    heading = embedding_input(passage).split("\n", 1)[0]
    heading_vector = real.encode([heading], is_query=False)[0]
    expected = len(heading) * heading_vector + sum(len(t) * given[t] for t in sentences)
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(table[embedding_input(passage)], expected, rtol=1e-5)


def test_load_run_refuses_anything_but_loopback(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="only targets loopback"):
        run_load("http://example.com:8000", ["q"], tmp_path)


@pytest.mark.integration
@pytest.mark.parametrize("failing", [False, True])
def test_load_run_counts_every_failed_request(tmp_path: Path, failing: bool) -> None:
    """A real locust run over loopback against the app under uvicorn (stand-in
    engine, no model): every request of an engine that fails is an error, none of
    one that answers."""
    if not locust_available():
        pytest.skip("locust is not installed")
    sys.path.insert(0, str(ROOT / "tests" / "reliability"))
    from reliability_support import FakeEngine

    from eval.servers import ThreadServer
    from qa_service.app import create_app
    from qa_service.settings import ServiceSettings

    engine = FakeEngine()
    engine.fail_with = RuntimeError("broken on purpose") if failing else None
    settings = ServiceSettings(data_dir=tmp_path / "data", rate_limit="")
    with ThreadServer(create_app(settings, engine=engine), settings) as server:
        result = run_load(server.url, ["养老保险怎么转移", "How is the pension calculated?"], tmp_path / "load",
                          users=2, seconds=6)
    assert result["requests"] > 0
    assert result["errors"] == (result["requests"] if failing else 0)


@pytest.mark.integration
def test_successive_load_runs_never_repeat_a_question(tmp_path: Path) -> None:
    """The benchmark's 8- and 16-client runs go to one service. Both once
    numbered their questions from 0, so the second run re-asked the first run's
    questions and met their cached embeddings (16 clients measured 35 ms of CPU
    per request against 64 ms with 8). Every question of both runs is new."""
    if not locust_available():
        pytest.skip("locust is not installed")
    sys.path.insert(0, str(ROOT / "tests" / "reliability"))
    from reliability_support import FakeEngine

    from eval.servers import ThreadServer
    from qa_service.app import create_app
    from qa_service.settings import ServiceSettings

    asked: list[str] = []

    class RecordingEngine(FakeEngine):
        def ask(self, request):  # type: ignore[no-untyped-def]
            asked.append(request.question)
            return super().ask(request)

        def search(self, request):  # type: ignore[no-untyped-def]
            asked.append(request.query)
            return super().search(request)

    settings = ServiceSettings(data_dir=tmp_path / "data", rate_limit="")
    with ThreadServer(create_app(settings, engine=RecordingEngine()), settings) as server:
        first = run_load(server.url, ["养老保险怎么转移"], tmp_path / "load-1", users=2, seconds=3)
        second = run_load(server.url, ["养老保险怎么转移"], tmp_path / "load-2", users=2, seconds=3,
                          first_number=first["next_number"])
    assert first["requests"] > 0 and second["requests"] > 0
    assert len(asked) >= first["requests"] + second["requests"]
    assert len(set(asked)) == len(asked), sorted(q for q in set(asked) if asked.count(q) > 1)[:5]


def test_help_lists_every_option() -> None:
    done = run_cli("--help", timeout=120)
    assert done.returncode == 0
    for option in ("--quick", "--json", "--sizes", "--cache-dir", "--questions", "--limit", "--load-seconds",
                   "--load-users"):
        assert option in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--sizes", "1000,0"], "sizes must be positive"),
    (["--sizes", "1k"], "--sizes must be comma-separated whole numbers, got '1k'"),
])
def test_bad_sizes_exit_2(args: list[str], message: str) -> None:
    done = run_cli(*args, timeout=120)
    assert done.returncode == 2
    assert message in done.stderr


# --------------------------------------------------------------------------- the real thing, tiny


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory, make_corpus_copy: Callable[[Path], Any]) -> Path:
    """The Social Insurance Law's first ten articles, alone: a full ingest in seconds."""
    copy = make_corpus_copy(tmp_path_factory.mktemp("tiny-corpus"))
    manifest = copy.manifest()
    manifest["documents"] = [d for d in manifest["documents"] if d["doc_id"] == ANCHOR_DOC]
    copy.write_manifest(manifest)
    text = copy.text(ANCHOR_DOC)
    copy.write(ANCHOR_DOC, text[: text.index("\n第十一条")].rstrip("\n") + "\n")
    copy.set_manifest(ANCHOR_DOC, articles=10)
    return copy.path


def _report(path: Path) -> dict:
    report = json.loads(path.read_text(encoding="utf-8"))
    missing = [key for key in REQUIRED_KEYS if key not in report]
    assert not missing, missing
    return report


@pytest.mark.integration
@pytest.mark.slow
def test_full_benchmark_on_a_tiny_size_writes_every_key(tiny_corpus: Path, tmp_path: Path) -> None:
    if not locust_available():  # never imported here: it monkey-patches the standard library
        pytest.skip("locust is not installed")
    out = tmp_path / "bench.json"
    done = run_cli("--sizes", "50", "--limit", "4", "--load-seconds", "3", "--corpus-dir", str(tiny_corpus),
                   "--cache-dir", str(tmp_path / "cache"), "--json", str(out), "--quiet")
    assert done.returncode == 0, done.stderr[-3000:]
    report = _report(out)
    for key in REQUIRED_KEYS:
        if key not in ("scaling_ratio",):  # needs two sizes
            assert report[key] is not None, key
    assert report["scaling_ratio"] is None
    assert set(report["scaling"]) == {"corpus", "50"}
    assert report["scaling"]["50"]["passages"] == 50 + 98  # the real law comes along
    assert report["scaling"]["50"]["index"]["vectors_from_model"] == 0
    assert report["throughput_errors"] == 0  # the target: no failed request under load
    runs = report["details"]["throughput"]  # one load run per client count
    assert runs and all(run["requests"] > 0 for run in runs.values())
    assert report["details"]["ingest"]["passages"] == 10
    assert set(report["targets"]) >= {"search_ratio", "ask_ratio", "ingest_ratio", "reingest_ratio", "scaling_ratio"}
    assert "search ratio" in done.stdout and f"JSON report: {out}" in done.stdout
    assert not list((tmp_path / "cache").glob("run-*")), "the run's work folder is removed after success"


@pytest.mark.integration
@pytest.mark.slow
def test_quick_benchmark_skips_scaling_and_measures_the_floor(tiny_corpus: Path, tmp_path: Path) -> None:
    if not locust_available():
        pytest.skip("locust is not installed")
    out = tmp_path / "quick.json"
    done = run_cli("--quick", "--limit", "3", "--load-seconds", "2", "--load-users", "2", "--corpus-dir",
                   str(tiny_corpus), "--cache-dir", str(tmp_path / "cache"), "--json", str(out), "--quiet")
    assert done.returncode == 0, done.stderr[-3000:]
    report = _report(out)
    assert report["meta"]["quick"] is True
    assert report["scaling_ratio"] is None and set(report["scaling"]) == {"corpus"}
    assert report["throughput_16_rps"] is None  # only the 2-client run was asked for
    assert list(report["details"]["throughput"]) == ["2"]
    for key in ("embed_query_p50_ms", "embed_use_p50_ms", "embed_e5_onnx_p50_ms", "embed_e5_torch_p50_ms",
                "search_p50_ms", "ask_p50_ms", "search_ratio", "ask_ratio", "naive_ratio", "search_naive_ratio",
                "ask_naive_ratio", "startup_seconds", "startup_torch_seconds", "startup_ratio",
                "rss_after_start_mb", "throughput_rps", "ingest_ratio", "reingest_ratio", "chroma_server_ratio",
                "filter_ratio"):
        assert isinstance(report[key], float), key
    # the ratios are those of the figures of the same run
    assert report["ask_naive_ratio"] == round(report["ask_p50_ms"] / report["naive_p50_ms"], 3)
    assert report["startup_ratio"] == round(
        report["startup_seconds"] / report["import_sentence_transformers_seconds"], 3)
    assert report["details"]["startup"]["rounds"] == 2
    assert report["targets"]["throughput_rps"]["target"] == ">= 32.5"
    assert "ask / naive" in done.stdout
    assert not (tmp_path / "cache").joinpath("synthetic-50-g1").exists()
