"""`python -m qa_service ask` when it cannot answer: one red line on stderr and
exit code 2, never a traceback — no index yet, or Chroma unreachable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import ROOT

from eval import servers
from qa_service.settings import ServiceSettings


def ask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qa_service", "ask", "社保法第58条", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_no_index_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = servers.settings_env(ServiceSettings.model_construct(data_dir=tmp_path / "empty"), COLUMNS="300")
    assert_one_line_error(ask(env), "python -m ingest")


@pytest.mark.integration
@pytest.mark.slow
def test_unreachable_chroma_is_one_line_and_exit_2(rel_index: ServiceSettings) -> None:
    """The session's index lives in a Chroma server; nothing listens where this run looks for it."""
    dead = f"http://127.0.0.1:{servers.free_port()}"
    env = servers.settings_env(rel_index, SIQA_CHROMA_URL=dead, SIQA_CHROMA_TIMEOUT_S="2", COLUMNS="300")
    assert_one_line_error(ask(env), f"Chroma at {dead} is unreachable")
