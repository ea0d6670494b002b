"""Helpers for the reliability tests: a `chroma run` server that can be stopped,
paused and restarted on the same port and path, the service as a subprocess,
and a small stand-in engine for in-process app tests that need no model."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import httpx

from corpus import Manifest
from eval.bench_servers import chroma_binary
from ingest.version import SOURCES_DIR, versions_dir
from qa_service.schemas import AskRequest, AskResponse, SearchRequest, SearchResponse
from qa_service.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "reliability-test-token-0123456789"
CHROMA_START_TIMEOUT_S = 30.0
SERVICE_START_TIMEOUT_S = 240.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen, timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


@dataclass
class ChromaProcess:
    """`chroma run` on a fixed loopback port and data path, restartable."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def path(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "chroma.log"

    def start(self, timeout_s: float = CHROMA_START_TIMEOUT_S) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        deadline = time.monotonic() + timeout_s
        while True:  # the port may linger briefly after a stop
            with self.log.open("ab") as out:
                self.process = subprocess.Popen(
                    [chroma_binary(), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            while time.monotonic() < deadline and self.process.poll() is None:
                if self.alive():
                    return
                time.sleep(0.2)
            if time.monotonic() >= deadline:
                stop_process(self.process)
                raise RuntimeError(f"chroma run gave no heartbeat within {timeout_s} s:\n{self.log_tail()}")
            time.sleep(0.5)  # exited (port busy?): try again until the deadline

    def alive(self, timeout_s: float = 1.0) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=timeout_s).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def pause(self, settle_s: float = 10.0) -> None:
        """SIGSTOP, then wait until the port stops answering: a stopped server keeps
        its socket, so connections are accepted and hang. Seen once in a loaded CI
        run: the first request after the signal was still answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + settle_s
        while self.alive(timeout_s=0.5):
            assert time.monotonic() < deadline, (
                f"chroma (pid {self.process.pid}) was paused but {self.url} still answers after {settle_s} s"
            )
            time.sleep(0.1)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def service_env(settings: ServiceSettings, **extra: str) -> dict[str, str]:
    """The environment that makes `python -m qa_service serve` use these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIQA_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        SIQA_DATA_DIR=str(settings.data_dir),
        SIQA_CORPUS_DIR=str(settings.corpus_dir),
        SIQA_EMBEDDERS=json.dumps(settings.embedders),
        SIQA_CHROMA_TIMEOUT_S=str(settings.chroma_timeout_s),
        SIQA_RATE_LIMIT=settings.rate_limit,
        SIQA_RELOAD_CHECK_S=str(settings.reload_check_s),
    )
    if settings.chroma_url:
        env["SIQA_CHROMA_URL"] = settings.chroma_url
    if settings.admin_token:
        env["SIQA_ADMIN_TOKEN"] = settings.admin_token.get_secret_value()
    env.update(extra)
    return env


@dataclass
class ServiceProcess:
    """`python -m qa_service serve` on a loopback port, its stderr (JSON logs) in a file."""

    settings: ServiceSettings
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_ready: bool = True, timeout_s: float = SERVICE_START_TIMEOUT_S) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "qa_service", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--log-level", "warning"],
                env=service_env(self.settings, **self.extra_env), cwd=ROOT,
                stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        self.wait(200 if wait_ready else None, timeout_s)

    def wait(self, ready_status: int | None, timeout_s: float) -> None:
        """Until /readyz answers (with `ready_status`, if given)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status = httpx.get(f"{self.url}/readyz", timeout=5).status_code
                if ready_status is None or status == ready_status:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"service not ready within {timeout_s} s:\n{self.log_tail()}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=20)

    def log_lines(self) -> list[dict]:
        """The JSON log records written so far (other lines, e.g. from uvicorn, skipped)."""
        records = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return records

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def version_sources(settings: ServiceSettings, build_id: str) -> dict[str, str]:
    """The text each document had when index version `build_id` was built, by
    file name and by doc id (ingest keeps a copy in versions/<build_id>/corpus/)."""
    folder = versions_dir(settings.index_dir) / build_id / SOURCES_DIR
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
    texts: dict[str, str] = {}
    for doc in manifest.documents:
        texts[doc.file] = texts[doc.doc_id] = (folder / doc.file).read_bytes().decode("utf-8")
    return texts


def is_error_body(body: object) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)


# --------------------------------------------------------------------------- a stand-in engine


class FakeEngine:
    """Answers without a model or index: for tests of the HTTP layer alone.
    A question containing "weather" is refused as out of scope; "ignore" as instructions."""

    def __init__(self) -> None:
        self.index = SimpleNamespace(build_id="fake-build", corpus_version="fake-corpus")
        self.embedders: dict[str, object] = {}
        self.reloads = 0
        self.fail_with: Exception | None = None

    def maybe_reload(self) -> bool:
        self.reloads += 1
        return False

    def ping(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def ask(self, request: AskRequest) -> AskResponse:
        if self.fail_with is not None:
            raise self.fail_with
        reason = "out_of_scope" if "weather" in request.question else "instructions" if "ignore" in request.question else None
        return AskResponse(
            question=request.question, lang="en", answer="refused" if reason else "an answer",
            refused=reason is not None, refusal_reason=reason, citations=[],
            corpus_version=self.index.corpus_version, index_version=self.index.build_id, took_ms=0.1,
        )

    def search(self, request: SearchRequest) -> SearchResponse:
        if self.fail_with is not None:
            raise self.fail_with
        return SearchResponse(
            query=request.query, lang="en", results=[], corpus_version=self.index.corpus_version,
            index_version=self.index.build_id, took_ms=0.1,
        )
