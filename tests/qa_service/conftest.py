"""A real index (both models) and a real uvicorn server on a loopback port, once per session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ingest.build import run_ingest
from qa_service.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def service_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("service-data")
    models = ROOT / "data" / "models"
    if models.is_dir():
        # reuse the converted e5 weights of `make run` instead of converting again
        (data_dir / "models").symlink_to(models, target_is_directory=True)
    run_ingest(ServiceSettings(data_dir=data_dir), progress=False)
    return data_dir


@pytest.fixture(scope="session")
def service_settings(service_data_dir: Path) -> ServiceSettings:
    return ServiceSettings(data_dir=service_data_dir)


@pytest.fixture(scope="session")
def server_url(service_data_dir: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "SIQA_DATA_DIR": str(service_data_dir), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa_service", "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server not ready within 180 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def client(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30) as http:
        yield http
