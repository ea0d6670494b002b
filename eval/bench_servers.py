"""Processes the benchmark starts and stops: `python -m qa_service serve` and
`chroma run`, each on a free loopback port with its output in a log file.

Everything listens on 127.0.0.1 only. Resident memory is read from /proc.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
START_ATTEMPTS = 3  # another process may take the port between probe and bind


class ServerError(RuntimeError):
    """A process did not start or become ready; the message ends with its log tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB (VmRSS), None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass
class Process:
    """A started server: `command` gets the port appended by `start`."""

    name: str
    command: list[str]
    ready_path: str
    log_dir: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    port: int = 0
    log: Path | None = None
    popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.popen is not None, "not started"
        return self.popen.pid

    def rss_mb(self) -> float | None:
        return None if self.popen is None else rss_mb(self.popen.pid)

    def start(self) -> Process:
        self.port = free_port()
        self.log = self.log_dir / f"{self.name}-{self.port}.log"
        with self.log.open("wb") as sink:
            self.popen = subprocess.Popen(
                [*self.command, "--port", str(self.port)],
                env=self.env, cwd=PROJECT_ROOT, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        return self

    def wait_ready(self, timeout_s: float) -> Process:
        """Poll `ready_path` until HTTP 200; restart on another port if the process
        dies before it is ready (a lost port race), at most START_ATTEMPTS times."""
        for attempt in range(START_ATTEMPTS):
            if self.popen is None:
                self.start()
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    break
                try:
                    if httpx.get(self.url + self.ready_path, timeout=2.0).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)
            else:
                self.stop()
                raise ServerError(f"{self.name} not ready within {timeout_s:.0f} s:\n{self.log_tail()}")
            if attempt + 1 < START_ATTEMPTS:
                self.popen = None
        raise ServerError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log else ""
        except FileNotFoundError:
            return "(no log)"


def service(name: str, data_dir: Path, log_dir: Path, chroma_url: str | None = None) -> Process:
    """`python -m qa_service serve` against `data_dir`, with this environment's
    settings (SIQA_*) except the per-address rate limit, which would reject a
    benchmark's loopback traffic."""
    env = {k: v for k, v in os.environ.items() if k != "SIQA_CHROMA_URL"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               SIQA_DATA_DIR=str(data_dir), SIQA_RATE_LIMIT="")
    command = [sys.executable, "-m", "qa_service", "serve", "--host", HOST, "--data-dir", str(data_dir),
               "--log-level", "warning"]
    if chroma_url:
        command += ["--chroma-url", chroma_url]
    return Process(name, command, "/readyz", log_dir, env)


def chroma_binary() -> str:
    beside_python = Path(sys.executable).parent / "chroma"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("chroma")
    if found is None:
        raise ServerError("the `chroma` command is not installed in this environment")
    return found


def chroma_server(path: Path, log_dir: Path) -> Process:
    """`chroma run --path <path>` on loopback."""
    return Process("chroma", [chroma_binary(), "run", "--path", str(path), "--host", HOST],
                   "/api/v2/heartbeat", log_dir)
