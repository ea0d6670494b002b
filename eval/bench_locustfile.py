"""The load run of `python -m eval bench`, as a locust file (locust imports it;
nothing else should: importing locust monkey-patches the standard library).

Each simulated client sends /v1/search or /v1/ask (equal weights, chosen at
random), without think time. Questions cycle through the file named by SIQA_BENCH_QUESTIONS; with
SIQA_BENCH_UNIQUE=1 each request gets a numbered suffix, so that every request
is a first-time question for the service (no query-embedding cache hits). The
numbers start at SIQA_BENCH_FIRST and the next free one is written out, so that
a later run against the same service asks nothing an earlier run asked.
Every request's latency is written to SIQA_BENCH_LOAD_OUT when the run stops,
so that percentiles are exact rather than locust's rounded buckets.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

from locust import FastHttpUser, constant, events, task

QUESTIONS: list[str] = json.loads(Path(os.environ["SIQA_BENCH_QUESTIONS"]).read_text(encoding="utf-8"))
UNIQUE = os.environ.get("SIQA_BENCH_UNIQUE") == "1"
OUT = Path(os.environ["SIQA_BENCH_LOAD_OUT"])

_counter = itertools.count(int(os.environ.get("SIQA_BENCH_FIRST", "0")))
_records: list[tuple[str, float, bool]] = []
_window: dict[str, float] = {}


def _next_question() -> str:
    n = next(_counter)
    question = QUESTIONS[n % len(QUESTIONS)]
    return f"{question} ({n})" if UNIQUE else question


@events.test_start.add_listener
def _started(**_: object) -> None:
    _window["start"] = time.monotonic()


@events.request.add_listener
def _record(name: str, response_time: float, exception: BaseException | None, **_: object) -> None:
    _records.append((name, response_time, exception is None))


@events.test_stop.add_listener
def _stopped(**_: object) -> None:
    seconds = time.monotonic() - _window.get("start", time.monotonic())
    OUT.write_text(json.dumps({"seconds": seconds, "requests": _records, "next_number": next(_counter)}),
                   encoding="utf-8")


class QuestionAsker(FastHttpUser):
    wait_time = constant(0)

    @task
    def search(self) -> None:
        self.client.post("/v1/search", json={"query": _next_question(), "top_k": 10}, name="/v1/search")

    @task
    def ask(self) -> None:
        self.client.post("/v1/ask", json={"question": _next_question()}, name="/v1/ask")
