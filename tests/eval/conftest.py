"""Helpers for the eval tests: writing question files; for integration tests,
a real index and a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """write_jsonl(records, name=...) -> path; a str record is written as the raw line."""

    def write(records: list[object], name: str = "questions.jsonl") -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


# --------------------------------------------------------------------------- a real index and server
# Only the integration tests use these; they build an index once per session and
# start `python -m qa_service serve` on a free loopback port.

ROOT = Path(__file__).resolve().parents[2]
SERVER_READY_TIMEOUT_S = 240.0


def _engine_available() -> bool:
    return (ROOT / "qa_service" / "engine.py").is_file() and (ROOT / "qa_service" / "app.py").is_file()


@pytest.fixture(scope="session")
def eval_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly built index (both models) in a temporary data dir."""
    if not _engine_available():
        pytest.skip("qa_service.engine / qa_service.app do not exist yet")
    from ingest.build import run_ingest
    from qa_service.settings import ServiceSettings

    data_dir = tmp_path_factory.mktemp("eval-data")
    models = ROOT / "data" / "models"
    if models.is_dir():  # reuse converted e5 weights rather than converting again
        (data_dir / "models").symlink_to(models, target_is_directory=True)
    run_ingest(ServiceSettings(data_dir=data_dir), progress=False)
    return data_dir


@pytest.fixture(scope="session")
def eval_server_url(eval_data_dir: Path, get_free_port: Callable[[], int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m qa_service serve` on a free loopback port, stopped at teardown."""
    import httpx

    port = get_free_port()
    log = tmp_path_factory.mktemp("eval-server") / "server.log"
    env = {**os.environ, "SIQA_DATA_DIR": str(eval_data_dir), "HF_HUB_OFFLINE": "1"}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "qa_service", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready within {SERVER_READY_TIMEOUT_S} s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
