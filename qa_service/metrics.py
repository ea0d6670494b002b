"""The service's Prometheus metrics (served at /metrics): HTTP requests by route
template, method and status, their latency, answers and refusals, re-ingest
jobs, and the index version being served. qa_service.request_context records
the HTTP ones; the routes record the rest."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import PlatformCollector, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.responses import Response

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The service's Prometheus metrics, in a registry of their own (one per app),
    so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self._index: tuple[str, str] | None = None
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.requests = Counter(
            "siqa_http_requests", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "siqa_http_request_duration_seconds", "Time from request to last response byte.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.in_progress = Gauge(
            "siqa_http_requests_in_progress", "Requests being served.", registry=self.registry,
        )
        self.answers = Counter(
            "siqa_answers", "Answers from /v1/ask by outcome (answered or refused).",
            ["outcome"], registry=self.registry,
        )
        self.refusals = Counter(
            "siqa_refusals", "Refused questions by reason (out_of_scope, no_such_article, instructions, …).",
            ["reason"], registry=self.registry,
        )
        self.reingest_jobs = Counter(
            "siqa_reingest_jobs", "Re-ingest jobs started over HTTP, by final status.",
            ["status"], registry=self.registry,
        )
        self.index_info = Gauge(
            "siqa_index_info", "The index version being served (value 1).",
            ["index_version", "corpus_version"], registry=self.registry,
        )

    def observe_answer(self, refused: bool, reason: str | None) -> None:
        self.answers.labels("refused" if refused else "answered").inc()
        if refused:
            self.refusals.labels(reason or "unspecified").inc()

    def set_index(self, index_version: str, corpus_version: str) -> None:
        if self._index == (index_version, corpus_version):
            return
        self._index = (index_version, corpus_version)
        self.index_info.clear()
        self.index_info.labels(index_version, corpus_version).set(1)

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
