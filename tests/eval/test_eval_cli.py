"""`python -m eval` as a user runs it: a subprocess, its exit code and its messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eval.results import CitationRecord, QuestionResult, RankedKey, write_results

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"id": "q1", "question": "养老保险怎么交？", "gold": ["social-insurance-law:10"]}


# A bound against a hang, not a speed check: ranx compiles its metrics on first use
# (about 50 s here), several times that on a loaded 2-core machine.
def run_cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "eval", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("eval ")


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("run", ["--questions", "--url", "--report-json", "--report-md", "--plot", "--top-k", "--results", "--trec-run"]),
        ("compare", ["--questions", "--report-md", "--plot", "--top-k"]),
        ("score", ["--questions", "--results", "--report-json"]),
    ],
)
def test_help_lists_every_option(command: str, options: list[str]) -> None:
    done = run_cli(command, "--help")
    assert done.returncode == 0
    for option in options:
        assert option in done.stdout


@pytest.mark.parametrize(
    ("records", "line", "message"),
    [
        ([GOOD, '{"id": "q2", "question": "x"'], 2, "invalid JSON"),
        ([GOOD, {"id": "q2", "gold": []}], 2, "'question' is missing or empty"),
        ([GOOD, GOOD | {"id": "q2"}, GOOD | {"id": "q3", "gold": ["social-insurance-law:120"]}], 3,
         "unknown gold key 'social-insurance-law:120'"),
        ([GOOD | {"nuggets": [["累计缴费满十五年"]]}, GOOD | {"id": "q2", "nuggets": [["累计缴费满十五年"], ["缴费满二十年"]]}], 2,
         "question 'q2': nugget 2: '缴费满二十年' is not in the corpus"),
        ([GOOD, GOOD | {"id": "q2", "nuggets": []}], 2, "'nuggets' is an empty list"),
        ([GOOD, GOOD | {"id": "q2"}, GOOD | {"id": "q3", "nuggets": ["累计缴费满十五年"]}], 3,
         "nugget 1 must be a list of alternative strings, got str"),
    ],
)
@pytest.mark.parametrize("command", ["run", "compare", "score"])
def test_malformed_question_file_exits_2_naming_file_and_line(
    write_jsonl: Callable[..., Path], command: str, records: list[object], line: int, message: str
) -> None:
    path = write_jsonl(records)
    options = ["--results", str(write_jsonl([], name="results.jsonl"))] if command == "score" else ["--quiet"]
    done = run_cli(command, "--questions", str(path), *options)
    assert done.returncode == 2, done.stderr
    assert f"{path}:{line}:" in done.stderr
    assert message in done.stderr
    assert done.stdout == ""


def test_nuggets_are_validated_against_the_corpus_dir_given(write_jsonl: Callable[..., Path], corpus_copy: Any) -> None:
    path = write_jsonl([GOOD | {"nuggets": [["累计缴费满十五年"]]}])
    corpus_copy.replace("social-insurance-law", "累计缴费满十五年", "累计缴费满二十年")
    done = run_cli("run", "--questions", str(path), "--corpus-dir", str(corpus_copy.path), "--quiet")
    assert done.returncode == 2, done.stderr
    assert f"{path}:1: question 'q1': nugget 1: '累计缴费满十五年' is not in the corpus" in done.stderr


def test_missing_question_file_exits_2(tmp_path: Path) -> None:
    done = run_cli("run", "--questions", str(tmp_path / "nope.jsonl"))
    assert done.returncode == 2


def test_unreachable_server_exits_1_naming_the_question(
    write_jsonl: Callable[..., Path], get_free_port: Callable[[], int], tmp_path: Path
) -> None:
    path = write_jsonl([GOOD])
    url = f"http://127.0.0.1:{get_free_port()}"
    done = run_cli("run", "-q", str(path), "--url", url, "--quiet", "--results", str(tmp_path / "r.jsonl"))
    assert done.returncode == 1
    assert "question 'q1': POST /v1/ask: ConnectError" in done.stderr


def test_score_rebuilds_the_report_from_saved_results(write_jsonl: Callable[..., Path], tmp_path: Path) -> None:
    """The whole report path without a model: saved results -> JSON, Markdown, PNG."""
    questions = write_jsonl([
        GOOD | {"category": "everyday", "nuggets": [["职工应当参加基本养老保险"], ["由用人单位和职工共同缴纳基本养老保险费"]]},
        {"id": "q2", "question": "How do I stop my insurance?", "gold": ["guidance-terminate-insured-relationship#step-2"],
         "nuggets": [["fill in the application form"]]},
        {"id": "u1", "question": "住房公积金比例？", "answerable": False, "gold": []},
    ])
    text = (ROOT / "corpus" / "social-insurance-law.zh.md").read_text(encoding="utf-8")
    quote = "职工应当参加基本养老保险"
    start = text.index(quote)
    results = tmp_path / "results.jsonl"
    write_results(results, [
        QuestionResult("q1", [RankedKey("social-insurance-law:12", 0.9), RankedKey("social-insurance-law:10", 0.8)],
                       12.0, False, None,
                       [CitationRecord("social-insurance-law:10", "social-insurance-law.zh.md", start, start + len(quote), quote)],
                       40.0, "v1", "职工应当参加基本养老保险 [1]。"),
        QuestionResult("q2", [RankedKey("social-insurance-law:1", 0.5)], 14.0, False, None, [], 42.0, "v1",
                       "Fill in the application\nform."),
        QuestionResult("u1", [], 10.0, True, "out_of_scope", [], 30.0, "v1"),
    ])
    out = tmp_path / "out"
    done = run_cli("score", "-q", str(questions), "--results", str(results), "--report-json", str(out / "r.json"),
                   "--report-md", str(out / "r.md"), "--plot", str(out / "r.png"))
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert set(report) == {
        "n_questions", "n_answerable_with_gold", "n_unanswerable", "retrieval", "answer",
        "abstention", "answers", "latency_ms", "by_lang", "failures",
    }
    assert report["retrieval"]["mrr@10"] == pytest.approx((1 / 2 + 0) / 2)
    assert report["answer"]["citation_verbatim_rate"] == 1.0
    assert report["abstention"]["refused_rate"] == 1.0
    assert [f["id"] for f in report["failures"]] == ["q2"]
    answers = report["answers"]
    # q1 states 1 of its 2 nuggets (the quote's); q2 says "Fill in": matching ignores whitespace, not case
    assert (answers["n_nuggets"], answers["n_nuggets_found"]) == (3, 1)
    assert [(i["id"], i["missing"]) for i in answers["incomplete"]] == [
        ("q1", [["由用人单位和职工共同缴纳基本养老保险费"]]), ("q2", [["fill in the application form"]])]
    assert answers["gold_cited_share"] == 1.0 and answers["n_answered"] == 2
    assert "recall@10" in done.stdout  # the summary table
    assert "Retrieval by category" in done.stdout and "Answer content" in done.stdout
    markdown = (out / "r.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Evaluation report")
    assert "## Answers missing a nugget: 2" in markdown
    assert (out / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
