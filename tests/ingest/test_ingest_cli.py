"""`python -m ingest` as a user runs it: a real subprocess, exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import ingest

ROOT = Path(ingest.__file__).resolve().parents[1]
LAW = "social-insurance-law"
LAW_19_FIRST = "第十九条 个人跨统筹地区就业的，其基本养老保险关系随本人转移"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIQA_")}
    env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_help_lists_the_options() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    for option in ("--corpus-dir", "--data-dir", "--chroma-url", "--embedders", "--passage-questions", "--renderings", "--quiet", "--version"):
        assert option in result.stdout


def test_version_prints_the_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ingest {version('social-insurance-qa')}"


# case -> (old text, new text, update the manifest sha256?, start of the expected error)
BAD_CORPORA = {
    # a changed byte behind the manifest's back: located to the file only
    "changed-byte": (
        "其基本养老保险关系随本人转移",
        "其基本养老保险关系随本人转入",
        False,
        "social-insurance-law.zh.md: sha256 mismatch",
    ),
    # a structural error: located to file and line
    "duplicated-article": (
        LAW_19_FIRST,
        f"{LAW_19_FIRST[:5]}重复。\n\n{LAW_19_FIRST}",
        True,
        "social-insurance-law.zh.md:77: duplicate article",
    ),
}


def _bad_corpus(corpus_copy, case: str) -> None:
    old, new, rehash, _ = BAD_CORPORA[case]
    corpus_copy.replace(LAW, old, new, rehash=rehash)


@pytest.mark.parametrize("case", BAD_CORPORA)
def test_bad_corpus_exits_2_with_an_error_naming_the_file(corpus_copy, tmp_path: Path, case: str) -> None:
    _bad_corpus(corpus_copy, case)
    data_dir = tmp_path / "data"

    result = run_cli(
        "--data-dir", str(data_dir), "--corpus-dir", str(corpus_copy.path), "--embedders", "use", "-q"
    )

    assert result.returncode == 2
    assert result.stdout == ""
    error = " ".join(result.stderr.split())  # undo any terminal wrapping
    assert error.startswith(f"error: {BAD_CORPORA[case][3]}")
    assert "Traceback" not in result.stderr
    assert not (data_dir / "index" / "CURRENT").exists()


def test_bad_corpus_error_is_a_single_line(corpus_copy, tmp_path: Path) -> None:
    """Regression: rich wrapped the error at 80 columns when stderr was not a terminal."""
    _bad_corpus(corpus_copy, "changed-byte")
    result = run_cli(
        "--data-dir", str(tmp_path / "data"), "--corpus-dir", str(corpus_copy.path),
        "--embedders", "use", "-q",
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_unknown_embedder_exits_2_naming_the_value(tmp_path: Path) -> None:
    result = run_cli("--data-dir", str(tmp_path / "data"), "--embedders", "use,bert", "-q")
    assert result.returncode == 2
    error = " ".join(result.stderr.split())
    assert "embedders must be a non-empty subset" in error and "bert" in error


@pytest.mark.parametrize(
    ("option", "bundled", "bad_line", "reason"),
    [
        ("--passage-questions", "passage_questions.jsonl", lambda good: '{"key": "social-insurance-law:2", "zh": []}', "Field required"),
        ("--renderings", "renderings.jsonl", lambda good: good[:-1] + ', "note": 1}', "Extra inputs are not permitted"),
    ],
)
def test_malformed_data_file_exits_2_naming_file_and_line(tmp_path: Path, option: str, bundled: str, bad_line, reason: str) -> None:
    data_file = tmp_path / bundled
    good = (ROOT / "ingest" / bundled).read_text(encoding="utf-8").splitlines()[0]
    data_file.write_text(f"{good}\n{bad_line(good)}\n", encoding="utf-8")
    data_dir = tmp_path / "data"

    result = run_cli("--data-dir", str(data_dir), option, str(data_file), "--embedders", "use", "-q")

    assert result.returncode == 2
    error = " ".join(result.stderr.split())
    assert error.startswith(f"error: {data_file}:2: ") and reason in error
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (data_dir / "index" / "CURRENT").exists()
