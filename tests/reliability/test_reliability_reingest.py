"""Re-ingest of a changed corpus over HTTP while questions keep coming: no errors,
and every answer comes wholly from the old or the new corpus version, checked
against the source files each version was built from."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import httpx
import pytest
from reliability_support import version_sources

from eval.servers import Process
from ingest.version import INDEX_FILE, read_record, versions_dir
from qa_service.settings import ServiceSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LAW = "social-insurance-law"
# Article 19 gains a clause, so the answer to a question about it changes.
OLD_CLAUSE = "其基本养老保险关系随本人转移，缴费年限累计计算。"
NEW_CLAUSE = "其基本养老保险关系随本人转移，缴费年限累计计算，转移手续由转入地社会保险经办机构一次办结。"
MARKER = "一次办结"

QUESTIONS = [
    ("ask", {"question": "社保法第19条"}),
    ("ask", {"question": "我从武汉调到西安上班，原来交的养老保险还有用吗？"}),
    ("search", {"query": "第十九条", "top_k": 3}),
    ("ask", {"question": "失业保险金能领多久？"}),
    ("ask", {"question": "Is maternity insurance paid by me or by the company?"}),
    ("ask", {"question": "明天上海会下雨吗？"}),
    ("search", {"query": "工伤认定", "top_k": 5}),
    ("ask", {"question": "How do I stop my insurance in the old city?"}),
]
MAX_REQUESTS = 600  # bounds: the stream stops at this many requests or STREAM_LIMIT_S
STREAM_LIMIT_S = 240.0
WORKERS = 3


@dataclass
class Outcome:
    kind: str
    payload: dict
    status: int
    body: dict | None
    error: str | None = None
    at: float = 0.0  # time.monotonic() when the response arrived


class QuestionStream:
    """WORKERS threads asking QUESTIONS in turn until stopped (or a bound is reached)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.outcomes: list[Outcome] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, args=(i,), daemon=True) for i in range(WORKERS)]
        self._deadline = time.monotonic() + STREAM_LIMIT_S

    def __enter__(self) -> QuestionStream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _work(self, offset: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            i = offset
            while not self.stop.is_set() and time.monotonic() < self._deadline:
                with self._lock:
                    if len(self.outcomes) >= MAX_REQUESTS:
                        return
                kind, payload = QUESTIONS[i % len(QUESTIONS)]
                i += 1
                try:
                    response = client.post(f"/v1/{kind}", json=payload)
                    outcome = Outcome(kind, payload, response.status_code, response.json())
                except (httpx.HTTPError, json.JSONDecodeError) as exc:
                    outcome = Outcome(kind, payload, 0, None, f"{type(exc).__name__}: {exc}")
                outcome.at = time.monotonic()
                with self._lock:
                    self.outcomes.append(outcome)

    def count(self, predicate=lambda o: True) -> int:  # type: ignore[no-untyped-def]
        with self._lock:
            return sum(1 for o in self.outcomes if predicate(o))

    def wait_for(self, predicate, at_least: int, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout_s
        while self.count(predicate) < at_least:
            assert time.monotonic() < deadline, f"fewer than {at_least} matching responses after {timeout_s} s"
            time.sleep(0.1)


def texts_of(body: dict, kind: str) -> list[tuple[str, int, int, str]]:
    """(file, start, end, text) of everything a response quotes from the corpus."""
    if kind == "ask":
        return [(c["file"], c["start"], c["end"], c["quote"]) for c in body["citations"]]
    return [(r["doc_id"], r["start"], r["end"], r["text"]) for r in body["results"]]  # sources map doc ids too


def test_answers_come_wholly_from_one_version_during_reingest(
    rel_service: Process, rel_client: httpx.Client, rel_index: ServiceSettings, rel_corpus,
    admin_headers: dict[str, str], restore_rel_index: None,
) -> None:
    settings = rel_index
    old_build = rel_client.get("/readyz").json()["index_version"]
    rel_corpus.replace(LAW, OLD_CLAUSE, NEW_CLAUSE)

    with QuestionStream(rel_service.url) as stream:
        stream.wait_for(lambda o: True, at_least=2 * len(QUESTIONS), timeout_s=60)
        posted_at = time.monotonic()
        started = rel_client.post("/v1/admin/reingest", headers=admin_headers)
        assert started.status_code == 202, started.text
        status_url = started.json()["status_url"]
        deadline = time.monotonic() + 180
        while (job := rel_client.get(status_url, headers=admin_headers).json())["status"] == "running":
            assert time.monotonic() < deadline, "re-ingest did not finish within 180 s"
            time.sleep(0.2)
        finished_at = time.monotonic()
        assert job["status"] == "succeeded", job
        new_build = job["report"]["build_id"]
        assert new_build != old_build and job["report"]["changed"] == 1 and job["report"]["embedded"] == 1
        # keep asking until the new version has answered every question at least once
        stream.wait_for(lambda o: o.body and o.body.get("index_version") == new_build,
                        at_least=2 * len(QUESTIONS), timeout_s=60)

    outcomes = stream.outcomes
    failures = [o for o in outcomes if o.status != 200]
    assert not failures, f"{len(failures)} of {len(outcomes)} requests failed, e.g. {failures[:3]}"

    during = [o for o in outcomes if posted_at <= o.at <= finished_at]
    assert during, "no question was answered while the re-ingest ran"

    by_version = {b: [o for o in outcomes if o.body["index_version"] == b] for b in (old_build, new_build)}
    assert {o.body["index_version"] for o in outcomes} == {old_build, new_build}
    assert all(by_version.values()), "both versions must have answered during the test"

    # Each response, checked against the source files of the version it names
    for build, answered in by_version.items():
        folder = versions_dir(settings.index_dir) / build
        assert (folder / INDEX_FILE).exists(), f"version {build} was collected while still referenced"
        record = read_record(folder)
        sources = version_sources(settings, build)
        for outcome in answered:
            assert outcome.body["corpus_version"] == record.corpus_version
            for where, start, end, text in texts_of(outcome.body, outcome.kind):
                assert sources[where][start:end] == text, (build, outcome.payload, where, start, end)

    # ... and the answer about article 19 did change with the version
    def article_19_quotes(build: str) -> list[str]:
        return [q for o in by_version[build] if o.payload == {"question": "社保法第19条"}
                for (_, _, _, q) in texts_of(o.body, "ask")]

    assert article_19_quotes(old_build) and not any(MARKER in q for q in article_19_quotes(old_build))
    assert article_19_quotes(new_build) and all(MARKER in q for q in article_19_quotes(new_build))
    # once a worker has seen the new version, it never sees the old one again (no flapping)
    first_new = next(i for i, o in enumerate(outcomes) if o.body["index_version"] == new_build)
    late_old = [i for i, o in enumerate(outcomes[first_new + WORKERS * 2:]) if o.body["index_version"] == old_build]
    assert not late_old, f"old version answered after the switch: {late_old[:5]}"
