"""Start-up part of `python -m eval bench`: seconds from starting `python -m
qa_service serve` to its first 200 on /readyz, and its resident memory then,
on each e5 backend, against the time a bare interpreter takes to import
sentence-transformers. The rounds alternate the three, so a change in the
machine's load falls on all of them."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from eval.bench_http import SERVER_TIMEOUT_S
from eval.servers import Process, bench_service
from eval.bench_stats import BenchError, Log, ratio, rounded

POLL_S = 0.05


def time_to_ready(server: Process, timeout_s: float = SERVER_TIMEOUT_S) -> tuple[float, float | None]:
    """Start `server`; seconds until /readyz answers 200 (polled every 50 ms) and RSS then, in MiB."""
    started = time.perf_counter()
    server.start()
    deadline = started + timeout_s
    with httpx.Client(timeout=2.0) as http:
        while time.perf_counter() < deadline:
            if server.popen is not None and server.popen.poll() is not None:
                raise BenchError(f"{server.name} exited with {server.popen.returncode}:\n{server.log_tail()}")
            try:
                if http.get(server.url + "/readyz").status_code == 200:
                    return time.perf_counter() - started, server.rss_mb()
            except httpx.HTTPError:
                pass
            time.sleep(POLL_S)
    server.stop()
    raise BenchError(f"{server.name} not ready within {timeout_s:.0f} s:\n{server.log_tail()}")


def import_seconds(module: str) -> float:
    """A fresh interpreter importing `module`, start to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def measure_startup(data_dir: Path, work: Path, backends: list[str], rounds: int, log: Log) -> dict[str, Any]:
    runs: dict[str, list[float]] = {"import_sentence_transformers": []}
    memory: dict[str, list[float]] = {}
    for round_no in range(rounds):
        runs["import_sentence_transformers"].append(import_seconds("sentence_transformers"))
        for backend in backends if round_no % 2 == 0 else backends[::-1]:
            server = bench_service(f"startup-{backend}", data_dir, work)
            server.env["SIQA_E5_BACKEND"] = backend
            try:
                seconds, rss = time_to_ready(server)
            finally:
                server.stop()
            runs.setdefault(backend, []).append(seconds)
            if rss is not None:
                memory.setdefault(backend, []).append(rss)
        log.note(f"round {round_no + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in runs.items()))
    median = {name: round(statistics.median(values), 2) for name, values in runs.items()}
    rss = {name: rounded(statistics.median(values)) for name, values in memory.items()}
    return {
        "rounds": rounds,
        "seconds": {name: [round(v, 2) for v in values] for name, values in runs.items()},
        "median_seconds": median,
        "rss_mb_at_ready": rss,
        "ratios_to_import_sentence_transformers": {
            backend: ratio(median[backend], median["import_sentence_transformers"]) for backend in backends
        },
        "what": "Popen of `python -m qa_service serve` to the first HTTP 200 on /readyz (lifespan done: index "
                "open, models loaded and warmed), each backend alone on the machine's other load; "
                "import = `python -c 'import sentence_transformers'` start to exit",
    }
