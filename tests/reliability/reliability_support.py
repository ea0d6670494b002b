"""Helpers for the reliability tests: a `chroma run` server that can be stopped,
paused and restarted on the same port and path, the service as a subprocess
(both through eval.servers, the one launcher), and a small stand-in engine for
in-process app tests that need no model."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from corpus import Manifest
from eval import servers
from eval.servers import Process
from ingest.version import SOURCES_DIR, versions_dir
from qa_service.schemas import AskRequest, AskResponse, SearchRequest, SearchResponse
from qa_service.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "reliability-test-token-0123456789"
SERVICE_START_TIMEOUT_S = servers.SERVICE_START_TIMEOUT_S


def chroma_process(directory: Path) -> Process:
    """`chroma run` on a fixed loopback port and data path (`directory`/data), restartable on both."""
    return servers.chroma_server(directory / "data", directory, port=servers.free_port())


def service_process(settings: ServiceSettings, log_dir: Path, name: str = "service", **extra_env: str) -> Process:
    """`python -m qa_service serve` with these settings; its stderr (JSON logs) in `log_dir`/`name`.log."""
    return servers.service(name, log_dir, servers.settings_env(settings, **extra_env))


def version_sources(settings: ServiceSettings, build_id: str) -> dict[str, str]:
    """The text each document had when index version `build_id` was built, by
    file name and by doc id (ingest keeps a copy in versions/<build_id>/corpus/)."""
    folder = versions_dir(settings.index_dir) / build_id / SOURCES_DIR
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))
    texts: dict[str, str] = {}
    for doc in manifest.documents:
        texts[doc.file] = texts[doc.doc_id] = (folder / doc.file).read_bytes().decode("utf-8")
    return texts


def is_error_body(body: object) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)


# --------------------------------------------------------------------------- a stand-in engine


class FakeEngine:
    """Answers without a model or index: for tests of the HTTP layer alone.
    A question containing "weather" is refused as out of scope; "ignore" as instructions."""

    def __init__(self) -> None:
        self.index = SimpleNamespace(build_id="fake-build", corpus_version="fake-corpus")
        self.embedders: dict[str, object] = {}
        self.reloads = 0
        self.fail_with: Exception | None = None

    def maybe_reload(self) -> bool:
        self.reloads += 1
        return False

    def ping(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def ask(self, request: AskRequest) -> AskResponse:
        if self.fail_with is not None:
            raise self.fail_with
        reason = "out_of_scope" if "weather" in request.question else "instructions" if "ignore" in request.question else None
        return AskResponse(
            question=request.question, lang="en", answer="refused" if reason else "an answer",
            refused=reason is not None, refusal_reason=reason, citations=[],
            corpus_version=self.index.corpus_version, index_version=self.index.build_id, took_ms=0.1,
        )

    def search(self, request: SearchRequest) -> SearchResponse:
        if self.fail_with is not None:
            raise self.fail_with
        return SearchResponse(
            query=request.query, lang="en", results=[], corpus_version=self.index.corpus_version,
            index_version=self.index.build_id, took_ms=0.1,
        )
