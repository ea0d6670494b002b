"""End to end against the real engine: a built index, models, and a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "eval" / "questions" / "dev.jsonl"


@pytest.fixture(scope="module")
def sample_questions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten dev questions, every 20th line: zh and en, answerable and out of scope."""
    lines = [line for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path_factory.mktemp("eval-questions") / "sample.jsonl"
    path.write_text("\n".join(lines[::20][:10]) + "\n", encoding="utf-8")
    return path


def run_cli(args: list[str], data_dir: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SIQA_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "eval", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_http_mode_gives_the_same_numbers_as_in_process(
    sample_questions: Path, eval_data_dir: Path, eval_server_url: str, tmp_path: Path
) -> None:
    reports, rankings = {}, {}
    for mode, extra in [("local", []), ("http", ["--url", eval_server_url])]:
        done = run_cli(["run", "-q", str(sample_questions), "--quiet", *extra,
                        "--report-json", str(tmp_path / f"{mode}.json"),
                        "--results", str(tmp_path / f"{mode}.jsonl")], eval_data_dir)
        assert done.returncode == 0, done.stderr
        reports[mode] = json.loads((tmp_path / f"{mode}.json").read_text(encoding="utf-8"))
        rankings[mode] = [
            ([r["key"] for r in row["ranking"]], row["refused"], [c["key"] for c in row["citations"]])
            for row in map(json.loads, (tmp_path / f"{mode}.jsonl").read_text(encoding="utf-8").splitlines())
        ]
    local, http = reports["local"], reports["http"]
    assert local["n_questions"] == http["n_questions"] == 10
    assert local["n_answerable_with_gold"] > 0 and local["n_unanswerable"] > 0
    assert rankings["local"] == rankings["http"]  # same keys, same order, same answers
    for metric in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "hit@5", "hit@10"):
        assert http["retrieval"][metric] == pytest.approx(local["retrieval"][metric]), metric
    assert http["by_lang"] == local["by_lang"]
    for metric in ("cited_gold_rate", "citation_verbatim_rate", "answered_rate"):
        assert http["answer"][metric] == pytest.approx(local["answer"][metric]), metric
    assert http["abstention"]["refused_rate"] == local["abstention"]["refused_rate"]
    assert local["answer"]["citation_verbatim_rate"] in (None, 1.0)  # the service's promise: quotes are verbatim
    assert local["answers"]["n_with_nuggets"] > 0  # the sample's answerable questions carry nuggets
    assert http["answers"] == local["answers"]  # same answer texts: same nuggets found, lengths, gold share


@pytest.fixture(scope="module")
def default_service(eval_data_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The service exactly as `make run` starts it: every setting at its default
    (rate limit 120/minute per address included) but the data folder."""
    from eval import servers
    from qa_service.settings import ServiceSettings

    env = servers.settings_env(ServiceSettings.model_construct(data_dir=eval_data_dir))
    assert not {k for k in env if k.startswith("SIQA_")} - {"SIQA_DATA_DIR"}
    with servers.service("default-service", tmp_path_factory.mktemp("default-service"), env) as service:
        yield service.start_and_wait(servers.SERVICE_START_TIMEOUT_S)


@pytest.mark.slow
def test_http_run_waits_out_the_default_rate_limit_and_completes(
    eval_data_dir: Path, default_service, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """61 questions are 122 requests: over the default 120 a minute, so the run must
    meet 429s, wait as Retry-After says, and still end with the in-process figures."""
    lines = [line for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = tmp_path / "sixty-one.jsonl"
    questions.write_text("\n".join(lines[::3][:61]) + "\n", encoding="utf-8")
    reports, results = {}, {}
    for mode, extra in [("http", ["--url", default_service.url]), ("local", [])]:
        done = run_cli(["run", "-q", str(questions), "--quiet", *extra, "--report-json", str(tmp_path / f"{mode}.json"),
                        "--results", str(tmp_path / f"{mode}.jsonl")], eval_data_dir)
        assert done.returncode == 0, done.stderr[-2000:]
        reports[mode] = json.loads((tmp_path / f"{mode}.json").read_text(encoding="utf-8"))
        results[mode] = [
            ([r["key"] for r in row["ranking"]], row["refused"], [c["key"] for c in row["citations"]])
            for row in map(json.loads, (tmp_path / f"{mode}.jsonl").read_text(encoding="utf-8").splitlines())
        ]
        if mode == "http":
            waits = reports["http"]["rate_limit"]
            assert waits["retries"] >= 1 and waits["waited_s"] >= 1, waits
            assert f"Rate limit: {waits['retries']} requests answered 429 and retried" in done.stdout
    assert "rate_limit" not in reports["local"]
    assert results["http"] == results["local"] and len(results["http"]) == 61
    for block in ("retrieval", "answer", "abstention", "by_lang"):
        assert reports["http"][block] == reports["local"][block], block


@pytest.mark.slow
def test_compare_prints_one_row_per_system_and_writes_reports(
    sample_questions: Path, eval_data_dir: Path, tmp_path: Path
) -> None:
    done = run_cli(["compare", "-q", str(sample_questions), "--quiet", "--report-md", str(tmp_path / "c.md"),
                    "--plot", str(tmp_path / "c.png"), "--report-json", str(tmp_path / "c.json")], eval_data_dir)
    assert done.returncode == 0, done.stderr
    systems = ["service (hybrid)", "BM25 only (jieba)", "dense only (USE)", "dense only (e5)",
               "plain RRF of the three", "naive LangChain"]
    for system in systems:
        assert system in done.stdout
    comparison = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert list(comparison["systems"]) == systems
    assert comparison["naive_chunks"] > 0
    assert "## By language" in (tmp_path / "c.md").read_text(encoding="utf-8")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
