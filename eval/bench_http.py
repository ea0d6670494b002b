"""The benchmark's HTTP side: a client for one service over one kept-alive
connection, and starting several services together."""

from __future__ import annotations

import time
from typing import Any

import httpx

from eval.servers import Process
from eval.bench_stats import BenchError

SERVER_TIMEOUT_S = 600.0
HTTP_TIMEOUT_S = 120.0
TOP_K = 10

WARM_UP_TEXTS = (
    "预热：失业保险金每月能领多少？",
    "预热：工伤认定需要哪些材料？",
    "warm-up: how is the basic pension calculated?",
    "warm-up: who pays maternity insurance?",
)


class Client:
    """POSTs to one service over one kept-alive connection; any non-200 is an error."""

    def __init__(self, server: Process) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT_S)
        self.last_took_ms: float | None = None  # the engine's own timing of the last call

    def post(self, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        try:
            response = self.http.post(path, json=body)
        except httpx.HTTPError as exc:
            code = self.server.popen.poll() if self.server.popen else None
            state = "" if code is None else f" (the service exited with {code}{' = signal ' + str(-code) if code < 0 else ''})"
            raise BenchError(f"{self.server.name}: POST {path}: {type(exc).__name__}: {exc}{state}") from None
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BenchError(f"{self.server.name}: POST {path}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json(), elapsed

    def search(self, query: str, filters: dict[str, list[str]] | None = None) -> tuple[list[str], float]:
        body: dict[str, Any] = {"query": query, "top_k": TOP_K}
        if filters:
            body["filters"] = filters
        data, ms = self.post("/v1/search", body)
        self.last_took_ms = data.get("took_ms")
        return [r["key"] for r in data["results"]], ms

    def ask(self, question: str) -> float:
        data, ms = self.post("/v1/ask", {"question": question})
        self.last_took_ms = data.get("took_ms")
        return ms

    def warm_up(self) -> None:
        for text in WARM_UP_TEXTS:
            self.search(text)
            self.ask(text)

    def close(self) -> None:
        self.http.close()


def start_all(servers: list[Process], timeout_s: float = SERVER_TIMEOUT_S) -> None:
    """Start together (model loading overlaps), then wait for each."""
    for server in servers:
        server.start()
    for server in servers:
        server.wait_ready(timeout_s)
