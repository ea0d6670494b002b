"""The one launcher for every process the tests and the benchmarks start:
`python -m qa_service serve`, `chroma run` and Debian's `redis-server`, each on a
loopback port (a free one, or a fixed one to restart on), its output in a log
file, readiness polled with a bound, and stopped (SIGCONT first, SIGTERM, then
SIGKILL) by its own process id.

Everything listens on 127.0.0.1 only. Resident memory is read from /proc.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ingest.settings import IndexSettings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PORT = "{port}"  # placeholder in a command, replaced by the process's port
START_ATTEMPTS = 3  # another process may take a free port between probe and bind
SERVICE_START_TIMEOUT_S = 240.0
CHROMA_START_TIMEOUT_S = 60.0
REDIS_START_TIMEOUT_S = 20.0


class ServerError(RuntimeError):
    """A process did not start or become ready; the message ends with its log tail."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
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


def stop_process(popen: subprocess.Popen, timeout_s: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after `timeout_s`; a paused (SIGSTOP) process is continued first."""
    if popen.poll() is not None:
        return
    popen.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
    popen.terminate()
    try:
        popen.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait(timeout=timeout_s)


# --------------------------------------------------------------------------- readiness probes

Probe = Callable[["Process"], int | None]  # a status (HTTP code, or 200 for "answers"), None: not answering


def http_probe(path: str, timeout_s: float = 2.0) -> Probe:
    def probe(process: Process) -> int | None:
        try:
            return httpx.get(process.url + path, timeout=timeout_s).status_code
        except httpx.HTTPError:
            return None

    return probe


def redis_probe(process: Process, timeout_s: float = 1.0) -> int | None:
    """200 when the server answers PING with PONG (the protocol by hand: no client library needed)."""
    try:
        with socket.create_connection((HOST, process.port), timeout=timeout_s) as sock:
            sock.sendall(b"PING\r\n")
            return 200 if sock.recv(64).startswith(b"+PONG") else None
    except OSError:
        return None


# --------------------------------------------------------------------------- a process


@dataclass
class Process:
    """A server started from `command` (with PORT placeholders) in `cwd`.

    `port=0` picks a free port at each start (and another one if the process dies
    before it is ready: a lost race for the port); a given port is kept across
    restarts, so clients and settings that name it keep working.
    """

    name: str
    command: list[str]
    probe: Probe
    log_dir: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    port: int = 0
    cwd: Path = PROJECT_ROOT
    popen: subprocess.Popen | None = None
    fixed_port: bool = False

    def __post_init__(self) -> None:
        self.fixed_port = self.port != 0
        self.log_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise ServerError(f"{self.name} is not started")
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def rss_mb(self) -> float | None:
        return None if self.popen is None else rss_mb(self.popen.pid)

    def start(self) -> Process:
        """Launch without waiting (several can then load at the same time)."""
        if self.running():
            raise ServerError(f"{self.name} is already running (pid {self.pid})")
        if not self.fixed_port:
            self.port = free_port()
        command = [part.replace(PORT, str(self.port)) for part in self.command]
        with self.log.open("ab") as sink:
            self.popen = subprocess.Popen(
                command, env=self.env, cwd=self.cwd, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        return self

    def status(self) -> int | None:
        return self.probe(self)

    def alive(self) -> bool:
        return self.status() is not None

    def wait_ready(self, timeout_s: float, status: int | None = 200) -> Process:
        """Until the probe gives `status` (None: any answer). A process that exits
        first is started again (on a new free port, or after a pause on its fixed
        one), at most START_ATTEMPTS times within the bound."""
        deadline = time.monotonic() + timeout_s
        for attempt in range(START_ATTEMPTS):
            if not self.running() and (attempt or self.popen is None):
                self.start()
            assert self.popen is not None
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    break
                got = self.status()
                if got is not None and (status is None or got == status):
                    return self
                time.sleep(0.25)
            else:
                self.stop()
                raise ServerError(f"{self.name} not ready within {timeout_s:.0f} s:\n{self.log_tail()}")
            if self.fixed_port:
                time.sleep(0.5)  # the port may linger briefly after a stop
        raise ServerError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")

    def start_and_wait(self, timeout_s: float, status: int | None = 200) -> Process:
        return self.start().wait_ready(timeout_s, status)

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.popen is not None:
            stop_process(self.popen, timeout_s)

    def __enter__(self) -> Process:
        """`with process:` stops it when the block ends, however it ends (starting is the block's business)."""
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def pause(self, settle_s: float = 10.0) -> None:
        """SIGSTOP, then wait until the port stops answering: a stopped server keeps
        its socket, so connections are accepted and hang (a loaded machine has been
        seen answering the first request after the signal)."""
        self.popen.send_signal(signal.SIGSTOP)  # type: ignore[union-attr]
        deadline = time.monotonic() + settle_s
        while self.alive():
            if time.monotonic() > deadline:
                raise ServerError(f"{self.name} (pid {self.pid}) was paused but still answers after {settle_s} s")
            time.sleep(0.1)

    def resume(self) -> None:
        if self.running():
            self.popen.send_signal(signal.SIGCONT)  # type: ignore[union-attr]

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def log_records(self) -> list[dict]:
        """The JSON log records written so far (other lines skipped)."""
        records = []
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        for line in text.splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return records


# --------------------------------------------------------------------------- the three kinds


def settings_env(settings: IndexSettings, **extra: str) -> dict[str, str]:
    """The environment that makes `python -m qa_service serve` (or ingest) use
    these settings: this environment without its SIQA_* variables, plus each
    field of `settings` that differs from its default, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIQA_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    defaults = type(settings).model_construct()
    for name, value in settings:
        if value == getattr(defaults, name, object()) and name != "data_dir":
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if value is None:
            raise ServerError(f"settings_env: {name}=None cannot be said in the environment")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int, float, Path)):
            text = str(value)
        else:
            text = json.dumps(value)
        env[f"SIQA_{name.upper()}"] = text
    env.update(extra)
    return env


def service(name: str, log_dir: Path, env: dict[str, str], port: int = 0) -> Process:
    """`python -m qa_service serve` on loopback with `env` (see settings_env), ready at /readyz."""
    command = [sys.executable, "-m", "qa_service", "serve", "--host", HOST, "--port", PORT, "--log-level", "warning"]
    return Process(name, command, http_probe("/readyz"), log_dir, env, port)


def bench_service(name: str, data_dir: Path, log_dir: Path, chroma_url: str | None = None) -> Process:
    """A service for a benchmark: this environment's SIQA_* settings except the
    per-address rate limit, which would reject a benchmark's loopback traffic."""
    env = {k: v for k, v in os.environ.items() if k != "SIQA_CHROMA_URL"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               SIQA_DATA_DIR=str(data_dir), SIQA_RATE_LIMIT="")
    if chroma_url:
        env["SIQA_CHROMA_URL"] = chroma_url
    return service(name, log_dir, env)


def chroma_binary() -> str:
    beside_python = Path(sys.executable).parent / "chroma"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("chroma")
    if found is None:
        raise ServerError("the `chroma` command is not installed in this environment")
    return found


def chroma_server(path: Path, log_dir: Path, port: int = 0, name: str = "chroma") -> Process:
    """`chroma run --path <path>` on loopback."""
    command = [chroma_binary(), "run", "--path", str(path), "--host", HOST, "--port", PORT]
    return Process(name, command, http_probe("/api/v2/heartbeat", timeout_s=1.0), log_dir, port=port)


def redis_binary() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if found is None:
        raise ServerError("redis-server is not installed (Debian: `apt-get install redis-server`; `make test` does it)")
    return found


def redis_server(directory: Path, log_dir: Path, port: int = 0, name: str = "redis") -> Process:
    """Debian's `redis-server` on loopback, nothing saved to disk; its URL is `redis://127.0.0.1:<port>/0`."""
    directory.mkdir(parents=True, exist_ok=True)
    command = [redis_binary(), "--bind", HOST, "--port", PORT, "--save", "", "--appendonly", "no",
               "--dir", str(directory), "--protected-mode", "yes"]
    return Process(name, command, redis_probe, log_dir, port=port)


class ThreadServer:
    """An ASGI app under a real uvicorn server (the service's own HTTP protocol,
    qa_service.edge) on a free loopback port, in a thread of this process: for
    tests of the HTTP edge that need no model. A context manager: stops on exit."""

    def __init__(self, app: object, settings: object | None = None, timeout_s: float = 20.0) -> None:
        import threading

        import uvicorn

        from qa_service.edge import guarded_protocol

        max_head = getattr(settings, "max_header_bytes", 16 * 1024)
        max_headers = getattr(settings, "max_headers", 100)
        self.port = free_port()
        config = uvicorn.Config(app, host=HOST, port=self.port, log_config=None, access_log=False, lifespan="on",
                                http=guarded_protocol(max_head, max_headers), log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)
        self.timeout_s = timeout_s

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + self.timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ServerError(f"uvicorn on port {self.port} did not start within {self.timeout_s:.0f} s")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=self.timeout_s)
