"""Rate limiting per client address: 429 with Retry-After and the JSON error,
on /v1/* only, counted per address, configurable and off when empty; the
storage setting (memory:// or Redis). Two service processes sharing one limit
through a real Redis: test_reliability_shared_limits.py."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from reliability_support import FakeEngine

from qa_service.app import create_app
from qa_service.settings import ServiceSettings


def make_client(settings: ServiceSettings, engine: FakeEngine, address: str) -> TestClient:
    return TestClient(create_app(settings, engine=engine), client=(address, 40000))


@pytest.fixture
def limited(app_settings: ServiceSettings) -> ServiceSettings:
    return app_settings.model_copy(update={"rate_limit": "3/minute"})


def test_fourth_request_in_a_minute_is_429_with_retry_after(limited: ServiceSettings, fake_engine: FakeEngine) -> None:
    client = make_client(limited, fake_engine, "10.0.0.1")
    statuses = [client.post("/v1/ask", json={"question": "养老保险"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = client.post("/v1/search", json={"query": "养老保险"})  # the limit spans all of /v1
    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "rate_limited" and "3 requests per 1 minute from 10.0.0.1" in body["message"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert f"retry in {response.headers['retry-after']} s" in body["message"]
    assert response.headers["x-ratelimit-limit"] == "3 per 1 minute"


def test_addresses_are_counted_apart(limited: ServiceSettings, fake_engine: FakeEngine) -> None:
    app = create_app(limited, engine=fake_engine)
    first, second = TestClient(app, client=("10.0.0.1", 1)), TestClient(app, client=("10.0.0.2", 1))
    # GET /v1/search is a 405, and still counted: the limit is on requests, not on successes
    assert [first.get("/v1/search").status_code for _ in range(4)] == [405, 405, 405, 429]
    assert first.post("/v1/search", json={"query": "x"}).status_code == 429
    assert [second.post("/v1/search", json={"query": "x"}).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_probes_metrics_and_docs_are_never_limited(limited: ServiceSettings, fake_engine: FakeEngine) -> None:
    client = make_client(limited, fake_engine, "10.0.0.3")
    for _ in range(3):
        client.post("/v1/ask", json={"question": "x"})
    assert client.post("/v1/ask", json={"question": "x"}).status_code == 429
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] * 3:
        assert client.get(path).status_code == 200, path


def test_rejected_requests_are_counted_in_metrics(limited: ServiceSettings, fake_engine: FakeEngine) -> None:
    client = make_client(limited, fake_engine, "10.0.0.4")
    for _ in range(5):
        client.post("/v1/ask", json={"question": "x"})
    metrics = client.get("/metrics").text
    assert 'siqa_http_requests_total{method="POST",route="/v1/ask",status="429"} 2.0' in metrics


def test_empty_setting_disables_the_limit(app_settings: ServiceSettings, fake_engine: FakeEngine) -> None:
    assert app_settings.rate_limit == ""
    client = make_client(app_settings, fake_engine, "10.0.0.5")
    assert {client.post("/v1/search", json={"query": "x"}).status_code for _ in range(200)} == {200}


def test_several_windows(app_settings: ServiceSettings, fake_engine: FakeEngine) -> None:
    client = make_client(app_settings.model_copy(update={"rate_limit": "100/hour;2/second"}), fake_engine, "10.0.0.6")
    statuses = [client.post("/v1/search", json={"query": "x"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_default_and_invalid_settings() -> None:
    assert ServiceSettings().rate_limit == "120/minute"
    assert ServiceSettings().rate_limit_storage == "memory://"
    with pytest.raises(ValidationError, match="rate_limit must look like '120/minute'.*'often'"):
        ServiceSettings(rate_limit="often")


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://cache.internal:6380", "redis+unix:///run/redis.sock",
                                 "memory://"])
def test_storage_urls_are_accepted(url: str) -> None:
    assert ServiceSettings(rate_limit_storage=url).rate_limit_storage == url


@pytest.mark.parametrize(("url", "said"), [("mongodb://x", "got mongodb://…"), ("cache.internal:6379", "got no scheme"),
                                           ("redis-but-no-scheme", "got no scheme")])
def test_unknown_storage_is_refused_without_echoing_the_url(url: str, said: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit_storage must be a URL with one of the schemes") as caught:
        ServiceSettings(rate_limit_storage=url)
    assert said in str(caught.value) and url not in str(caught.value).replace(said, "")


def test_an_unreachable_storage_lets_requests_through_and_says_so(
    app_settings: ServiceSettings, fake_engine: FakeEngine, get_free_port, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens on the port: the counter is down, the API is not."""
    settings = app_settings.model_copy(update={
        "rate_limit": "1/minute", "rate_limit_storage": f"redis://127.0.0.1:{get_free_port()}/0",
        "rate_limit_storage_timeout_s": 0.2,
    })
    client = make_client(settings, fake_engine, "10.0.0.7")
    with caplog.at_level("WARNING", logger="qa_service.ratelimit"):
        logging.getLogger("qa_service").propagate = True  # caplog listens at the root
        try:
            statuses = [client.post("/v1/search", json={"query": "x"}).status_code for _ in range(3)]
        finally:
            logging.getLogger("qa_service").propagate = False
    assert statuses == [200, 200, 200]
    # by record: pytest may have its capture handler on more than one logger of the chain
    warnings = [r.getMessage() for r in {id(r): r for r in caplog.records if r.name == "qa_service.ratelimit"}.values()]
    assert len(warnings) == 1 and "rate-limit storage (redis://…) failed, requests are not limited" in warnings[0]
