"""Shared fixtures: a writable copy of the corpus, free loopback ports, and a
real `chroma run` server for the whole session.

These start real things and stop them; nothing here is a mock.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# The models are local files; never ask the Hugging Face hub for anything.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from corpus import DEFAULT_CORPUS_DIR  # noqa: E402
from eval import servers  # noqa: E402
from qa_service.settings import ServiceSettings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- corpus copies


@dataclass
class CorpusCopy:
    """A writable copy of the corpus data files (manifest, documents, SOURCES.md).

    Edits go through `write`/`replace`, which by default also update the
    manifest's sha256, so that a test about structure is not stopped by the
    checksum; pass `rehash=False` to corrupt a file behind the manifest's back.
    """

    path: Path
    source: Path = DEFAULT_CORPUS_DIR

    def manifest(self) -> dict:
        return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))

    def write_manifest(self, manifest: dict) -> None:
        (self.path / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    def entry(self, doc_id: str) -> dict:
        return next(d for d in self.manifest()["documents"] if d["doc_id"] == doc_id)

    def file(self, doc_id: str) -> Path:
        return self.path / self.entry(doc_id)["file"]

    def text(self, doc_id: str) -> str:
        return self.file(doc_id).read_bytes().decode("utf-8")

    def set_manifest(self, doc_id: str, **fields: object) -> None:
        manifest = self.manifest()
        for doc in manifest["documents"]:
            if doc["doc_id"] == doc_id:
                doc.update(fields)
                break
        else:
            raise KeyError(doc_id)
        self.write_manifest(manifest)

    def rehash(self, doc_id: str) -> None:
        self.set_manifest(doc_id, sha256=hashlib.sha256(self.file(doc_id).read_bytes()).hexdigest())

    def write(self, doc_id: str, text: str, *, rehash: bool = True) -> None:
        self.file(doc_id).write_bytes(text.encode("utf-8"))
        if rehash:
            self.rehash(doc_id)

    def replace(self, doc_id: str, old: str, new: str, *, rehash: bool = True) -> None:
        """Replace the single occurrence of `old` (a test edit must be unambiguous)."""
        text = self.text(doc_id)
        count = text.count(old)
        if count != 1:
            raise AssertionError(f"{old!r} occurs {count} times in {doc_id}, expected once")
        self.write(doc_id, text.replace(old, new), rehash=rehash)

    def restore(self) -> None:
        """Back to a byte-identical copy of the source corpus."""
        copy_corpus_files(self.source, self.path)


def corpus_data_files(corpus_dir: Path) -> list[Path]:
    """manifest.json, SOURCES.md and every file the manifest lists."""
    manifest = json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    names = ["manifest.json", "SOURCES.md", *(d["file"] for d in manifest["documents"])]
    return [corpus_dir / name for name in names if (corpus_dir / name).exists()]


def copy_corpus_files(source: Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    for stale in destination.iterdir():
        if stale.is_file():
            stale.unlink()
    for path in corpus_data_files(source):
        shutil.copyfile(path, destination / path.name)


@pytest.fixture(scope="session")
def make_corpus_copy() -> Callable[[Path], CorpusCopy]:
    """Factory for module- or session-scoped copies: `make_corpus_copy(tmp_path_factory.mktemp("c"))`."""

    def make(destination: Path) -> CorpusCopy:
        copy = CorpusCopy(destination)
        copy.restore()
        return copy

    return make


@pytest.fixture
def corpus_copy(tmp_path: Path, make_corpus_copy: Callable[[Path], CorpusCopy]) -> CorpusCopy:
    """A fresh, writable copy of the bundled corpus in this test's tmp_path."""
    return make_corpus_copy(tmp_path / "corpus")


# --------------------------------------------------------------------------- ports


@pytest.fixture(scope="session")
def get_free_port() -> Callable[[], int]:
    """A callable returning a currently unused loopback TCP port (usable from any scope)."""
    return servers.free_port


@pytest.fixture
def free_port() -> int:
    return servers.free_port()


# --------------------------------------------------------------------------- Chroma server


def start_chroma_server(directory: Path, timeout_s: float = servers.CHROMA_START_TIMEOUT_S) -> servers.Process:
    """`chroma run` on a free loopback port, data in `directory`/data, ready (bounded wait)."""
    try:
        return servers.chroma_server(directory / "data", directory).start_and_wait(timeout_s)
    except servers.ServerError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Process]:
    """A real `chroma run` server on 127.0.0.1 for the whole session (stopped at teardown).

    Use `IndexSettings(chroma_url=chroma_server.url, ...)`. Caution: collections
    are named by build id and `run_ingest` garbage-collects every `siqa-*`
    collection not belonging to its own current/previous version, so two index
    data directories must not be live on this server at the same time.
    """
    with start_chroma_server(tmp_path_factory.mktemp("chroma-server")) as server:
        yield server


# --------------------------------------------------------------------------- the service
# One index (both models) and one real server per test session, shared by the
# API, browser, eval and reliability tests: ingesting costs minutes on 2 cores.

SERVER_STARTUP_TIMEOUT_S = 180


@pytest.fixture(scope="session")
def service_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingest.build import run_ingest
    from qa_service.settings import ServiceSettings

    data_dir = tmp_path_factory.mktemp("service-data")
    models = ROOT / "data" / "models"
    if models.is_dir():
        # reuse the converted e5 weights of `make run` instead of converting again
        (data_dir / "models").symlink_to(models, target_is_directory=True)
    run_ingest(ServiceSettings(data_dir=data_dir, embedders=["use", "e5"]), progress=False)
    return data_dir


@pytest.fixture(scope="session")
def service_settings(service_data_dir: Path):  # type: ignore[no-untyped-def]
    from qa_service.settings import ServiceSettings

    return ServiceSettings(data_dir=service_data_dir)


@pytest.fixture(scope="session")
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The real server on a free loopback port; SIQA_TEST_SERVER_URL uses one you already run."""
    external = os.environ.get("SIQA_TEST_SERVER_URL")
    if external:
        yield external.rstrip("/")
        return
    data_dir: Path = request.getfixturevalue("service_data_dir")
    # the whole suite comes from one loopback address: lift the per-client rate limit
    env = servers.settings_env(ServiceSettings(data_dir=data_dir), SIQA_RATE_LIMIT="100000/minute")
    with servers.service("service", data_dir.parent, env) as server:
        yield server.start_and_wait(SERVER_STARTUP_TIMEOUT_S).url
