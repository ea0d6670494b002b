"""Session fixtures for the reliability tests.

One restartable `chroma run` server, one writable corpus copy, one index built
into that server with the USE model only (the service loads only the models an
index records, so this is the fast set-up), and one service subprocess with
the admin token set and rate limiting off. Tests that stop Chroma, re-ingest or
edit the corpus leave these working again (or say so) when they finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from reliability_support import ADMIN_TOKEN, SERVICE_START_TIMEOUT_S, FakeEngine, chroma_process, service_process

from eval.servers import CHROMA_START_TIMEOUT_S, Process
from ingest.build import run_ingest
from ingest.embedders import Embedder, make_embedder
from qa_service.settings import ServiceSettings


@pytest.fixture(scope="session")
def rel_chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    with chroma_process(tmp_path_factory.mktemp("rel-chroma")) as chroma:
        yield chroma.start_and_wait(CHROMA_START_TIMEOUT_S)


@pytest.fixture(scope="session")
def rel_corpus(tmp_path_factory: pytest.TempPathFactory, make_corpus_copy: Callable) -> object:
    """The corpus the session's service reads (tests.conftest.CorpusCopy); tests may edit it."""
    return make_corpus_copy(tmp_path_factory.mktemp("rel-corpus"))


@pytest.fixture(scope="session")
def rel_settings(tmp_path_factory: pytest.TempPathFactory, rel_chroma: Process, rel_corpus) -> ServiceSettings:
    return ServiceSettings(
        data_dir=tmp_path_factory.mktemp("rel-data"),
        corpus_dir=rel_corpus.path,
        chroma_url=rel_chroma.url,
        chroma_timeout_s=2.0,
        embedders=["use"],
        admin_token=ADMIN_TOKEN,
        rate_limit="",
    )


@pytest.fixture(scope="session")
def rel_embedders(rel_settings: ServiceSettings) -> list[Embedder]:
    """The USE model, loaded once in the test process for every in-process ingest."""
    return [make_embedder(name, rel_settings) for name in rel_settings.embedders]


@pytest.fixture(scope="session")
def rel_index(rel_settings: ServiceSettings, rel_embedders: list[Embedder]) -> ServiceSettings:
    """The index, built once per session (USE only, ~40 s)."""
    run_ingest(rel_settings, progress=False, embedders=rel_embedders)
    return rel_settings


@pytest.fixture
def restore_rel_index(rel_index: ServiceSettings, rel_corpus, rel_embedders: list[Embedder]) -> Iterator[None]:
    """For tests that edit the session corpus: put the original text back and
    re-ingest it afterwards (only the edited passages are embedded again)."""
    yield
    rel_corpus.restore()
    run_ingest(rel_index, progress=False, embedders=rel_embedders)


@pytest.fixture(scope="session")
def rel_service(rel_index: ServiceSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    with service_process(rel_index, tmp_path_factory.mktemp("rel-service")) as service:
        yield service.start_and_wait(SERVICE_START_TIMEOUT_S)


@pytest.fixture(scope="session")
def rel_client(rel_service: Process) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rel_service.url, timeout=30) as client:
        yield client


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def app_settings(tmp_path: Path) -> ServiceSettings:
    """Settings for an in-process app with the stand-in engine (nothing on disk is read)."""
    return ServiceSettings(data_dir=tmp_path / "data", rate_limit="", admin_token=ADMIN_TOKEN)
