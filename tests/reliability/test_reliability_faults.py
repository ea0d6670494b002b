"""Faults: Chroma stopped, hung or not yet up, and an ingest killed mid-way.

The service runs against its own `chroma run` server, which these tests stop,
pause (SIGSTOP) and restart on the same port and path. Every test leaves the
server running again, and the service must have recovered by itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from reliability_support import ROOT, SERVICE_START_TIMEOUT_S, is_error_body, service_process

from eval.servers import CHROMA_START_TIMEOUT_S, Process
from ingest.version import current_build_id, versions_dir
from qa_service.settings import ServiceSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = {"question": "我从武汉调到西安上班，原来交的养老保险还有用吗？"}
RECOVERY_TIMEOUT_S = 60.0


@pytest.fixture
def chroma(rel_chroma: Process, rel_client: httpx.Client) -> Iterator[Process]:
    """The session's Chroma, restarted (or resumed) after the test if it left it down."""
    assert rel_client.get("/readyz").status_code == 200
    try:
        yield rel_chroma
    finally:
        rel_chroma.resume()
        rel_chroma.wait_ready(CHROMA_START_TIMEOUT_S)  # started again if the test left it stopped
        wait_until_ready(rel_client)


def wait_until_ready(client: httpx.Client, timeout_s: float = RECOVERY_TIMEOUT_S) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            response = client.get("/readyz", timeout=10)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"not ready again within {timeout_s} s"
        time.sleep(0.25)


def assert_unavailable(response: httpx.Response, fragment: str) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert is_error_body(body) and body["error"] == "unavailable" and fragment in body["message"], body
    assert response.headers["retry-after"] == "5"


# --------------------------------------------------------------------------- Chroma stopped


def test_stopped_chroma_gives_503_then_the_service_recovers(
    chroma: Process, rel_client: httpx.Client, rel_index: ServiceSettings
) -> None:
    before = rel_client.post("/v1/ask", json=QUESTION).json()["index_version"]
    chroma.stop()
    # at once (connections are refused); how fast is not asserted: it depends on the machine's load
    ready = rel_client.get("/readyz")
    assert_unavailable(ready, "Chroma unreachable")
    assert ready.json()["index_version"] == before
    for path, body in [("/v1/ask", QUESTION), ("/v1/search", {"query": "养老保险关系转移"})]:
        assert_unavailable(rel_client.post(path, json=body), "Chroma")
    # what needs no Chroma keeps working
    assert rel_client.get("/healthz").status_code == 200
    assert rel_client.get("/v1/articles/social-insurance-law/19").status_code == 200

    chroma.start_and_wait(CHROMA_START_TIMEOUT_S)  # same port, same path
    assert wait_until_ready(rel_client)["index_version"] == before
    answer = rel_client.post("/v1/ask", json=QUESTION)
    assert answer.status_code == 200 and answer.json()["index_version"] == before
    assert "social-insurance-law:19" in [c["key"] for c in answer.json()["citations"]]


def test_hung_chroma_gives_503_within_the_timeout(
    chroma: Process, rel_client: httpx.Client, rel_index: ServiceSettings
) -> None:
    """A Chroma that accepts connections but never answers (SIGSTOP): the service's
    own bound (settings.chroma_timeout_s, 2 s here) answers 503 naming the timeout,
    well before this client's 30 s would give up."""
    chroma.pause()
    assert_unavailable(rel_client.get("/readyz"), "Chroma unreachable: ReadTimeout")
    assert_unavailable(rel_client.post("/v1/ask", json={"question": "工伤保险待遇有哪些？"}), "Chroma")
    chroma.resume()
    wait_until_ready(rel_client)
    assert rel_client.post("/v1/ask", json=QUESTION).status_code == 200


def test_service_started_while_chroma_is_down_comes_up_by_itself(
    chroma: Process, rel_index: ServiceSettings, tmp_path: Path
) -> None:
    chroma.stop()
    service = service_process(rel_index, tmp_path)
    service.start_and_wait(SERVICE_START_TIMEOUT_S, status=None)  # answering, not ready
    try:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            ready = client.get("/readyz")
            assert_unavailable(ready, "index not loaded")
            assert_unavailable(client.post("/v1/ask", json=QUESTION), "index not loaded")
            assert client.get("/healthz").status_code == 200
            chroma.start_and_wait(CHROMA_START_TIMEOUT_S)
            wait_until_ready(client, timeout_s=RECOVERY_TIMEOUT_S + 60)  # includes loading the model
            assert client.post("/v1/ask", json=QUESTION).status_code == 200
    finally:
        service.stop()


# --------------------------------------------------------------------------- ingest killed mid-way


def _ingest_command(settings: ServiceSettings) -> list[str]:
    return [
        sys.executable, "-m", "ingest", "--quiet", "--corpus-dir", str(settings.corpus_dir),
        "--data-dir", str(settings.data_dir), "--chroma-url", str(settings.chroma_url), "--embedders", "use",
    ]


def _staging(settings: ServiceSettings) -> list[Path]:
    return sorted(versions_dir(settings.index_dir).glob(".staging-*"))


def test_killed_ingest_leaves_the_previous_index_serving(
    rel_client: httpx.Client, rel_index: ServiceSettings, rel_corpus, restore_rel_index: None, tmp_path: Path
) -> None:
    settings = rel_index
    before = current_build_id(settings.index_dir)
    assert rel_client.post("/v1/ask", json=QUESTION).json()["index_version"] == before
    # ~30 articles change: enough embedding work to be killed in the middle of
    law = rel_corpus.text("social-insurance-law")
    rel_corpus.write("social-insurance-law", law.replace("社会保险经办机构", "社会保险经办服务机构"))
    leftovers = set(_staging(settings))

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    log = (tmp_path / "ingest.log").open("wb")
    process = subprocess.Popen(_ingest_command(settings), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not set(_staging(settings)) - leftovers:  # the new version is being written
            assert process.poll() is None, f"ingest ended before it could be interrupted: {process.returncode}"
            assert time.monotonic() < deadline, "ingest did not start writing within 120 s"
            time.sleep(0.02)
        time.sleep(0.3)  # into the embedding
        assert process.poll() is None, "ingest finished before the kill: nothing was interrupted"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        log.close()

    assert current_build_id(settings.index_dir) == before  # CURRENT untouched
    assert set(_staging(settings)) - leftovers  # the half-written version is still there, unpublished
    assert wait_until_ready(rel_client)["index_version"] == before
    answer = rel_client.post("/v1/ask", json=QUESTION)
    assert answer.status_code == 200 and answer.json()["index_version"] == before

    # a later ingest of the same corpus completes (the interrupted build's leftovers are replaced)
    done = subprocess.run(_ingest_command(settings), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    after = current_build_id(settings.index_dir)
    assert after != before and f"switched to index {after}" in done.stdout
    deadline = time.monotonic() + 30
    while (body := rel_client.post("/v1/search", json={"query": "社保法第8条", "top_k": 1}).json())["index_version"] != after:
        assert time.monotonic() < deadline, "the service did not switch to the new version"
        time.sleep(0.2)
    assert "社会保险经办服务机构" in body["results"][0]["text"]
