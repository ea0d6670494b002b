"""Chroma: embedded (PersistentClient under the data directory) or a server (HttpClient)."""

from __future__ import annotations

from urllib.parse import urlparse

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings

from ingest.settings import IndexSettings

COLLECTION_PREFIX = "siqa"


def open_chroma(settings: IndexSettings) -> ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"chroma_url must be http(s)://host:port, got {settings.chroma_url!r}")
        client = chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
        _bound_http_timeout(client, settings.chroma_timeout_s)
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def _bound_http_timeout(client: ClientAPI, seconds: float) -> None:
    """Chroma's HTTP client waits forever by default; a stopped server must give
    a prompt error instead of a hung request."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds)


def collection_name(build_id: str, embedder: str) -> str:
    return f"{COLLECTION_PREFIX}-{build_id}-{embedder}"


def chroma_where(filters: dict[str, list[str]]) -> dict | None:
    """{"doc_id": [...], "chapter": [...]} -> a Chroma `where` clause."""
    clauses = [{field: {"$in": values}} for field, values in filters.items() if values]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
