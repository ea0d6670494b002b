"""POST /v1/admin/reingest and GET /v1/admin/reingest/{job}: bearer token from
the environment, one job at a time, status with the ingest report."""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from reliability_support import ADMIN_TOKEN, FakeEngine

from corpus import CorpusError
from ingest.build import IngestBusy, IngestReport
from qa_service.app import create_app
from qa_service.reingest import ReingestJobs
from qa_service.routes.admin import get_jobs
from qa_service.settings import ServiceSettings

REPORT = IngestReport("b" * 16, "c" * 16, 6, 244, 0, 1, 243, 0, 1, 0.5, True, 3)


class FakeIngest:
    """Stands in for ingest.build.run_ingest; `hold` keeps it running until set."""

    def __init__(self, result: IngestReport | Exception = REPORT) -> None:
        self.result = result
        self.hold = threading.Event()
        self.hold.set()
        self.calls: list[ServiceSettings] = []

    def __call__(self, settings: ServiceSettings, progress: bool = True, embedders: object = None) -> IngestReport:
        self.calls.append(settings)
        self.hold.wait(10)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.fixture
def make_client(app_settings: ServiceSettings, fake_engine: FakeEngine) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(ingest: FakeIngest | None = None, **overrides: object) -> TestClient:
        settings = app_settings.model_copy(update=overrides)
        app = create_app(settings, engine=fake_engine)
        if ingest is not None:
            jobs = ReingestJobs(settings, lambda: app.state.engine, ingest=ingest)
            app.dependency_overrides[get_jobs] = lambda: jobs
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def auth(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for(client: TestClient | httpx.Client, job_id: str, headers: dict[str, str], timeout_s: float = 30) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        body = client.get(f"/v1/admin/reingest/{job_id}", headers=headers).json()
        if body["status"] != "running":
            return body
        assert time.monotonic() < deadline, f"job {job_id} still running after {timeout_s} s"
        time.sleep(0.1)


# --------------------------------------------------------------------------- auth


def test_disabled_without_a_token(make_client: Callable[..., TestClient]) -> None:
    client = make_client(admin_token=None)
    for response in [client.post("/v1/admin/reingest", headers=auth()), client.get("/v1/admin/reingest/x", headers=auth())]:
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "admin endpoints are disabled: set SIQA_ADMIN_TOKEN to enable them"}


def test_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setenv("SIQA_ADMIN_TOKEN", "from-the-environment-123")
    assert ServiceSettings(data_dir=tmp_path).admin_token.get_secret_value() == "from-the-environment-123"
    monkeypatch.setenv("SIQA_ADMIN_TOKEN", "")
    assert ServiceSettings(data_dir=tmp_path).admin_token is None  # empty: disabled


def test_short_token_is_refused_at_start_without_echoing_it(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="at least 16") as caught:
        ServiceSettings(data_dir=tmp_path, admin_token="hunter2")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("headers", "status", "fragment"),
    [
        ({}, 401, "Authorization: Bearer <token> header is required"),
        ({"Authorization": ""}, 401, "malformed"),
        ({"Authorization": "Bearer"}, 401, "malformed"),
        ({"Authorization": "Bearer "}, 401, "malformed"),
        ({"Authorization": f"Basic {ADMIN_TOKEN}"}, 401, "malformed"),
        ({"Authorization": f"Bearer {ADMIN_TOKEN} extra"}, 401, "malformed"),
        ({"Authorization": "Bearer wrong-token-of-some-length"}, 403, "not valid"),
        ({"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"}, 403, "not valid"),
        ({"Authorization": f"Bearer {ADMIN_TOKEN}x"}, 403, "not valid"),
        ({"Authorization": "Bearer 令牌".encode()}, 403, "not valid"),
    ],
)
def test_missing_malformed_or_wrong_token(make_client: Callable[..., TestClient], headers: dict, status: int, fragment: str) -> None:
    ingest = FakeIngest()
    client = make_client(ingest)
    for response in [client.post("/v1/admin/reingest", headers=headers), client.get("/v1/admin/reingest/x", headers=headers)]:
        assert response.status_code == status, response.text
        assert fragment in response.json()["message"]
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    assert ingest.calls == []


def test_bearer_scheme_is_case_insensitive(make_client: Callable[..., TestClient]) -> None:
    assert make_client(FakeIngest()).post("/v1/admin/reingest", headers={"Authorization": f"bearer {ADMIN_TOKEN}"}).status_code == 202


# --------------------------------------------------------------------------- jobs


def test_job_runs_in_the_background_and_reports(make_client: Callable[..., TestClient]) -> None:
    ingest = FakeIngest()
    ingest.hold.clear()
    client = make_client(ingest)
    response = client.post("/v1/admin/reingest", headers=auth(), json={"corpus_dir": "/etc", "data_dir": "/"})
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "running" and job["report"] is None
    assert response.headers["location"] == job["status_url"] == f"/v1/admin/reingest/{job['job_id']}"
    assert client.get(job["status_url"], headers=auth()).json()["status"] == "running"
    ingest.hold.set()
    done = wait_for(client, job["job_id"], auth())
    assert done["status"] == "succeeded" and done["finished_at"] and done["error"] is None
    assert done["report"]["build_id"] == REPORT.build_id and done["report"]["changed"] == 1
    assert done["summary"] == REPORT.summary()
    assert done["serving_index_version"] == "fake-build"  # the stand-in engine never switches
    # the request body names no files: the job used the configured folders
    assert [s.corpus_dir for s in ingest.calls] == [client.app.state.settings.corpus_dir]
    assert [s.data_dir for s in ingest.calls] == [client.app.state.settings.data_dir]


def test_second_job_while_one_runs_is_409(make_client: Callable[..., TestClient]) -> None:
    ingest = FakeIngest()
    ingest.hold.clear()
    client = make_client(ingest)
    first = client.post("/v1/admin/reingest", headers=auth()).json()
    second = client.post("/v1/admin/reingest", headers=auth())
    assert second.status_code == 409
    assert second.json() == {"error": "ingest_running", "message": f"re-ingest job {first['job_id']} is still running"}
    ingest.hold.set()
    assert wait_for(client, first["job_id"], auth())["status"] == "succeeded"
    assert client.post("/v1/admin/reingest", headers=auth()).status_code == 202  # free again


def test_ingest_running_in_another_process_is_409(make_client: Callable[..., TestClient], app_settings: ServiceSettings) -> None:
    """`python -m ingest` holds an flock on the data directory; the same lock is probed here."""
    ingest = FakeIngest()
    client = make_client(ingest)
    app_settings.index_dir.mkdir(parents=True, exist_ok=True)
    with (app_settings.index_dir / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        response = client.post("/v1/admin/reingest", headers=auth())
        fcntl.flock(held, fcntl.LOCK_UN)
    assert response.status_code == 409 and "another ingest is running" in response.json()["message"]
    assert ingest.calls == []


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (IngestBusy("another ingest is running on /x/index"), "another ingest is running"),
        (CorpusError("social-insurance-law.zh.md", "duplicate article 第五条 (5), first at line 12", 40),
         "CorpusError: social-insurance-law.zh.md:40: duplicate article"),
    ],
)
def test_failed_job_reports_why(make_client: Callable[..., TestClient], failure: Exception, message: str) -> None:
    client = make_client(FakeIngest(failure))
    job = client.post("/v1/admin/reingest", headers=auth()).json()
    done = wait_for(client, job["job_id"], auth())
    assert done["status"] == "failed" and message in done["error"] and done["report"] is None


def test_unknown_job_is_404(make_client: Callable[..., TestClient]) -> None:
    response = make_client(FakeIngest()).get("/v1/admin/reingest/0123456789abcdef", headers=auth())
    assert response.status_code == 404 and "no re-ingest job" in response.json()["message"]


def test_admin_operations_declare_bearer_auth(make_client: Callable[..., TestClient]) -> None:
    spec = make_client().get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["AdminToken"] == {
        "type": "http", "scheme": "bearer", "description": "The token in SIQA_ADMIN_TOKEN."
    }
    for path, method in [("/v1/admin/reingest", "post"), ("/v1/admin/reingest/{job_id}", "get")]:
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"AdminToken": []}]
        assert {"401", "403", "404", "429"} <= set(operation["responses"])


# --------------------------------------------------------------------------- the real server


@pytest.mark.integration
@pytest.mark.slow
def test_reingest_of_an_unchanged_corpus_over_http(rel_client: httpx.Client, admin_headers: dict[str, str]) -> None:
    before = rel_client.get("/readyz").json()["index_version"]
    response = rel_client.post("/v1/admin/reingest", headers=admin_headers)
    assert response.status_code == 202, response.text
    done = wait_for(rel_client, response.json()["job_id"], admin_headers, timeout_s=120)
    assert done["status"] == "succeeded", done
    assert done["report"]["switched"] is False and done["report"]["build_id"] == before
    assert done["serving_index_version"] == before
    assert "already serving index" in done["summary"]
