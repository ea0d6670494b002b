"""`python -m eval soak`: a long, bounded run against one service process over
loopback, sampling its resident memory, to see whether memory levels off.

- the service: `python -m qa_service serve` on the given index (rate limit off),
  started on a free loopback port and stopped at the end;
- the traffic: `--requests` POSTs (default 20,000), /v1/ask and /v1/search
  alternately, from `--clients` threads with kept-alive connections; a share
  `--first-time` of them are questions the service has never seen (the question
  with a numbered suffix: a new query embedding, a new cache entry), the rest
  repeat the question file's questions (cache hits);
- memory: the service's VmRSS every `--sample-every` requests; the report gives
  the curve, the growth over the whole run and over its last half (target < 5 %);
- the edge, once the run is half way: a 1 MiB request header must be answered
  431 within a second while /healthz keeps answering (its slowest answer then
  is reported) — the timings that no test asserts.

Every request goes to 127.0.0.1; the run is bounded by its request count and
by `--max-seconds`.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from eval import servers
from eval.report import write_json

GROWTH_TARGET_PCT = 5.0
HEADER_TARGET_S = 1.0
HTTP_TIMEOUT_S = 120.0
BIG_HEADER_BYTES = 1024 * 1024


class SoakError(RuntimeError):
    """The service could not be started or stopped answering."""


@dataclass
class SoakConfig:
    data_dir: Path
    questions: list[str]
    requests: int = 20_000
    clients: int = 2
    first_time: float = 0.5
    sample_every: int | None = None  # default: requests / 40
    max_seconds: float = 4 * 3600.0
    work_dir: Path | None = None
    progress: Callable[[str], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    # written again at every memory sample, so that a run stopped from outside leaves its curve
    partial_report: Path | None = None

    def __post_init__(self) -> None:
        if self.requests < 2:
            raise ValueError(f"requests must be at least 2, got {self.requests}")
        if self.clients < 1:
            raise ValueError(f"clients must be at least 1, got {self.clients}")
        if not 0.0 <= self.first_time <= 1.0:
            raise ValueError(f"first_time must be between 0 and 1, got {self.first_time}")
        if not self.questions:
            raise ValueError("no questions to ask")
        if self.sample_every is None:
            self.sample_every = max(1, self.requests // 40)
        if self.sample_every < 1:
            raise ValueError(f"sample_every must be positive, got {self.sample_every}")


def request_plan(n: int, questions: list[str], first_time: float) -> list[tuple[str, dict[str, Any]]]:
    """(path, body) for each of `n` requests: ask and search alternately; spread
    evenly, a `first_time` share gets a never-seen suffix, the rest cycle the questions."""
    plan: list[tuple[str, dict[str, Any]]] = []
    new = itertools.count(1)
    repeated = itertools.cycle(questions)
    owed = 0.0
    for i in range(n):
        owed += first_time
        if owed >= 1.0:
            owed -= 1.0
            number = next(new)
            text = f"{questions[number % len(questions)]} （{number}）"
        else:
            text = next(repeated)
        plan.append(("/v1/ask", {"question": text}) if i % 2 == 0 else ("/v1/search", {"query": text, "top_k": 10}))
    return plan


def growth_pct(start: float | None, end: float | None) -> float | None:
    if start is None or end is None or start <= 0:
        return None
    return round((end - start) / start * 100.0, 2)


def summarise(samples: list[tuple[int, float]]) -> dict[str, Any]:
    """Growth over the run and over its last half, from (requests done, RSS MiB) samples."""
    if not samples:
        return {"rss_start_mb": None, "rss_mid_mb": None, "rss_end_mb": None, "growth_pct": None,
                "growth_last_half_pct": None}
    total = samples[-1][0]
    mid = min(samples, key=lambda s: abs(s[0] - total / 2))
    return {
        "rss_start_mb": round(samples[0][1], 1),
        "rss_mid_mb": round(mid[1], 1),
        "rss_mid_at": mid[0],
        "rss_end_mb": round(samples[-1][1], 1),
        "rss_max_mb": round(max(s[1] for s in samples), 1),
        "growth_pct": growth_pct(samples[0][1], samples[-1][1]),
        "growth_last_half_pct": growth_pct(mid[1], samples[-1][1]),
    }


def big_header_check(service: servers.Process, healthz_probes: int = 20) -> dict[str, Any]:
    """A 1 MiB header from one connection while another asks /healthz: how long
    until the 431, and the slowest /healthz answer meanwhile."""
    result: dict[str, Any] = {}

    def send_big() -> None:
        started = time.perf_counter()
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * BIG_HEADER_BYTES + b"\r\n\r\n"
        try:
            with socket.create_connection((servers.HOST, service.port), timeout=30) as sock:
                try:
                    sock.sendall(request)
                except OSError:
                    pass  # answered and closed before everything was sent
                first = sock.recv(64)
                result["seconds_to_answer"] = round(time.perf_counter() - started, 4)
                result["status_line"] = first.split(b"\r\n", 1)[0].decode("latin-1")
        except OSError as exc:
            result["error"] = f"{type(exc).__name__}: {exc}"

    sender = threading.Thread(target=send_big)
    latencies = []
    with httpx.Client(base_url=service.url, timeout=30) as client:
        sender.start()
        for _ in range(healthz_probes):
            started = time.perf_counter()
            status = client.get("/healthz").status_code
            latencies.append((status, time.perf_counter() - started))
    sender.join(timeout=60)
    result["healthz_statuses"] = sorted({status for status, _ in latencies})
    result["healthz_max_ms"] = round(max(s for _, s in latencies) * 1000, 2)
    result["answered_431"] = result.get("status_line", "").startswith("HTTP/1.1 431")
    return result


def run_soak(config: SoakConfig) -> dict[str, Any]:
    say = config.progress or (lambda _text: None)
    work = config.work_dir or (config.data_dir / "soak-runs" / datetime.now().strftime("%Y%m%d-%H%M%S"))
    work.mkdir(parents=True, exist_ok=True)
    service = servers.bench_service("soak-service", config.data_dir, work)
    service.env.update(config.env)
    plan = request_plan(config.requests, config.questions, config.first_time)
    lock = threading.Lock()
    position = itertools.count()
    done = 0
    errors: list[str] = []
    samples: list[tuple[int, float]] = []
    latencies_ms: list[float] = []
    edge: dict[str, Any] = {}
    deadline = time.monotonic() + config.max_seconds
    stop = threading.Event()

    def sample() -> None:
        rss = service.rss_mb()
        if rss is not None:
            samples.append((done, rss))
        if config.partial_report is not None:
            write_json(config.partial_report, {
                "partial": True, "requests_planned": len(plan), "requests_done": done, "errors": len(errors),
                "error_examples": errors[:5], **summarise(samples),
                "big_header": {k: v for k, v in list(edge.items()) if k != "pending"},
                "rss_curve": [{"requests": n, "rss_mb": round(mb, 1)} for n, mb in samples],
            })

    def client_loop() -> None:
        nonlocal done
        with httpx.Client(base_url=service.url, timeout=HTTP_TIMEOUT_S) as http:
            while not stop.is_set():
                i = next(position)
                if i >= len(plan) or time.monotonic() > deadline:
                    return
                path, body = plan[i]
                started = time.perf_counter()
                try:
                    response = http.post(path, json=body)
                    ok, why = response.status_code == 200, f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    ok, why = False, f"{type(exc).__name__}: {exc}"
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    done += 1
                    latencies_ms.append(elapsed)
                    if not ok:
                        errors.append(f"request {i} {path}: {why}")
                        if not service.running():
                            stop.set()
                    if done % config.sample_every == 0:  # type: ignore[operator]
                        sample()
                        say(f"{done}/{len(plan)} requests, RSS {samples[-1][1]:.0f} MiB, {len(errors)} errors")
                    if done == len(plan) // 2 and not edge:
                        edge["pending"] = True
                if edge.pop("pending", False):
                    edge.update(big_header_check(service))

    started = time.perf_counter()
    try:
        say(f"starting the service on {config.data_dir} …")
        try:
            service.start_and_wait(servers.SERVICE_START_TIMEOUT_S)
        except servers.ServerError as exc:
            raise SoakError(str(exc)) from None
        with httpx.Client(base_url=service.url, timeout=HTTP_TIMEOUT_S) as warm:
            warm.post("/v1/ask", json={"question": config.questions[0]})
        sample()  # after start-up and one answer: the baseline
        started = time.perf_counter()  # the run itself, without the service's start-up
        threads = [threading.Thread(target=client_loop, name=f"soak-client-{n}") for n in range(config.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sample()
        seconds = time.perf_counter() - started
        exit_code = service.popen.poll() if service.popen else None
    finally:
        service.stop()
    latencies_ms.sort()

    def pct(p: float) -> float | None:
        return round(latencies_ms[min(len(latencies_ms) - 1, int(p / 100 * len(latencies_ms)))], 1) if latencies_ms else None

    memory = summarise(samples)
    report: dict[str, Any] = {
        "requests_planned": len(plan),
        "requests_done": done,
        "errors": len(errors),
        "error_examples": errors[:5],
        "clients": config.clients,
        "first_time_share": config.first_time,
        "seconds": round(seconds, 1),
        "rps": round(done / seconds, 2) if seconds > 0 else None,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        **memory,
        "rss_curve": [{"requests": n, "rss_mb": round(mb, 1)} for n, mb in samples],
        "big_header": edge,
        "service_exit_code": exit_code,
        "meta": {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "data_dir": str(config.data_dir),
                 "log": str(service.log)},
    }
    report["targets"] = {
        "growth_last_half_pct": {"value": memory["growth_last_half_pct"], "target": f"< {GROWTH_TARGET_PCT}",
                                 "met": memory["growth_last_half_pct"] is not None
                                 and memory["growth_last_half_pct"] < GROWTH_TARGET_PCT},
        "errors": {"value": len(errors), "target": "0", "met": not errors and done == len(plan)},
        "big_header_431_s": {"value": edge.get("seconds_to_answer"), "target": f"< {HEADER_TARGET_S}",
                             "met": bool(edge.get("answered_431")) and edge.get("seconds_to_answer", 99) < HEADER_TARGET_S
                             and edge.get("healthz_statuses") == [200]},
    }
    return report

