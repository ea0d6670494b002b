"""The query-embedding cache under concurrent requests, with the real models.

Regression: the cache was an OrderedDict LRU without a lock, used from the
service's thread pool; another thread could evict an entry between `get()` and
`move_to_end()`, and the request failed with a KeyError (about 1.7 per million
calls from 16 threads). Here 16 threads share an embedder whose cache holds one
of the three questions they ask, so nearly every miss evicts the entry another
thread has just found. The interpreter rarely switches threads between those
two C calls (a garbage collection that runs a finaliser can), so the cache is
given a `get()` that lets other threads run right after the lookup: with the
unlocked cache this test fails with KeyErrors within its first calls.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ingest.embedders import Embedder, OnnxE5Embedder, UseEmbedder
from ingest.settings import IndexSettings

pytestmark = pytest.mark.integration

QUESTIONS = [
    "失业保险金最长可以领取多少个月？",
    "工伤认定需要哪些材料？",
    "Who pays maternity insurance, me or my company?",
]
THREADS = 16
CACHE_SIZE = 1


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


class YieldingOrderedDict(OrderedDict):
    """An OrderedDict whose get() gives the other threads a turn after the lookup."""

    def get(self, key: Any, default: Any = None) -> Any:
        value = super().get(key, default)
        time.sleep(0)  # releases the GIL
        return value


def _make(name: str) -> Embedder:
    settings = IndexSettings()
    if name == "use":
        return UseEmbedder(cache_size=CACHE_SIZE)
    return OnnxE5Embedder(settings.models_dir, cache_size=CACHE_SIZE)


@pytest.mark.parametrize(("name", "calls_per_thread"), [("use", 60), ("e5", 25)])
def test_cache_survives_many_threads_evicting_each_other(
    name: str, calls_per_thread: int, fast_thread_switching: None
) -> None:
    embedder = _make(name)
    embedder.warm_up()
    expected = {q: embedder.encode([q], is_query=True)[0] for q in QUESTIONS}
    embedder._query_cache = YieldingOrderedDict()
    encoded: list[int] = []
    in_flight = [0, 0]  # now, most at once
    count_lock = threading.Lock()
    real_encode = embedder.encode

    def counting_encode(texts: list[str], is_query: bool) -> np.ndarray:
        with count_lock:
            encoded.append(len(texts))
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        try:
            return real_encode(texts, is_query)
        finally:
            with count_lock:
                in_flight[0] -= 1

    embedder.encode = counting_encode  # type: ignore[method-assign]
    errors: list[BaseException] = []
    wrong: list[str] = []
    start = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(calls_per_thread):
            question = rng.choice(QUESTIONS)
            try:
                vector = embedder.embed_query(question)
            except BaseException as exc:  # the bug was a KeyError from move_to_end
                errors.append(exc)
                return
            if not np.allclose(vector, expected[question], atol=1e-6):
                wrong.append(question)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert errors == [], f"{len(errors)} calls failed, first: {errors[0]!r}"
    assert wrong == [], f"wrong vectors for {sorted(set(wrong))}"
    total = THREADS * calls_per_thread
    misses = len(encoded)
    # churn did happen: more encodings than distinct questions (entries were
    # evicted and asked again), yet far fewer than calls (entries were hit)
    assert len(QUESTIONS) < misses < total, (misses, total)
    assert len(embedder._query_cache) <= CACHE_SIZE
    # the lock guards the cache, not the encoding: misses were encoded side by side
    assert in_flight[1] >= 2
