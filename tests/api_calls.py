"""The service's HTTP API as the integration and browser tests call it: each
call expects a 200 and returns the decoded body. One copy for tests/qa_service
and tests/browser (importable from every test: pytest puts this folder, the
one of the session conftest, on sys.path)."""

from __future__ import annotations

import httpx


def ask_api(client: httpx.Client, question: str, **extra: object) -> dict:
    """POST /v1/ask; `extra` adds request fields (e.g. top_k)."""
    response = client.post("/v1/ask", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def search_api(client: httpx.Client, query: str, **extra: object) -> list[dict]:
    """POST /v1/search; the ranked results."""
    response = client.post("/v1/search", json={"query": query, **extra})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def article_api(client: httpx.Client, doc_id: str, ref: object) -> dict:
    """GET /v1/articles/{doc_id}/{ref}."""
    response = client.get(f"/v1/articles/{doc_id}/{ref}")
    assert response.status_code == 200, response.text
    return response.json()


def cited_keys(answer: dict) -> set[str]:
    """The passage keys an /v1/ask answer cites."""
    return {c["key"] for c in answer["citations"]}
