"""Rate limits that hold across processes: two `python -m qa_service serve`
processes (two replicas, or two workers) share one limit through a real Redis
server (Debian's redis-server on loopback, started and stopped here), and a
Redis outage lets requests through instead of failing them.

A missing redis-server fails this test (`make test` installs it with apt-get)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from reliability_support import SERVICE_START_TIMEOUT_S, is_error_body, service_process

from eval import servers
from qa_service.settings import ServiceSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LIMIT = 6
ARTICLE = "/v1/articles/social-insurance-law/19"  # cheap: no embedding, still under /v1


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Process]:
    directory = tmp_path_factory.mktemp("redis")
    with servers.redis_server(directory / "data", directory) as server:
        try:
            server.start_and_wait(servers.REDIS_START_TIMEOUT_S)
        except servers.ServerError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield server


@pytest.fixture(scope="module")
def replicas(rel_index: ServiceSettings, redis_server: servers.Process,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[servers.Process]]:
    log_dir: Path = tmp_path_factory.mktemp("replicas")
    storage = f"redis://127.0.0.1:{redis_server.port}/0"
    started = [
        service_process(rel_index, log_dir, name, SIQA_RATE_LIMIT=f"{LIMIT}/minute", SIQA_RATE_LIMIT_STORAGE=storage)
        for name in ("replica-a", "replica-b")
    ]
    try:
        for replica in started:
            replica.start()  # both load at once
        for replica in started:
            replica.wait_ready(SERVICE_START_TIMEOUT_S)
        yield started
    finally:
        for replica in started:
            replica.stop()


def test_two_processes_share_one_limit_through_redis(replicas: list[servers.Process], redis_server: servers.Process) -> None:
    a, b = (httpx.Client(base_url=r.url, timeout=30) for r in replicas)
    with a, b:
        # alternate between the two: each alone sees only half the limit's requests
        statuses = [(a if i % 2 == 0 else b).get(ARTICLE).status_code for i in range(LIMIT)]
        assert statuses == [200] * LIMIT
        over_a, over_b = a.get(ARTICLE), b.get(ARTICLE)
        for response in (over_a, over_b):
            assert response.status_code == 429, response.text
            body = response.json()
            assert is_error_body(body) and body["error"] == "rate_limited"
            assert f"more than {LIMIT} requests per 1 minute from 127.0.0.1" in body["message"]
            assert 1 <= int(response.headers["retry-after"]) <= 60
        # probes are never limited, on either
        assert a.get("/healthz").status_code == b.get("/healthz").status_code == 200
    keys = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=5).keys("*")
    assert any(b"siqa" in key and b"127.0.0.1" in key for key in keys), keys


def test_a_redis_outage_lets_requests_through_and_is_logged(
    replicas: list[servers.Process], redis_server: servers.Process
) -> None:
    redis_server.stop()
    try:
        for replica in replicas:
            with httpx.Client(base_url=replica.url, timeout=30) as client:
                assert [client.get(ARTICLE).status_code for _ in range(3)] == [200, 200, 200]
            warnings = [r for r in replica.log_records() if r.get("event") == "rate_limit_storage_error"]
            assert warnings and "requests are not limited" in warnings[-1]["message"], replica.log_tail()
    finally:
        redis_server.start_and_wait(servers.REDIS_START_TIMEOUT_S)  # same port: the replicas use it again
