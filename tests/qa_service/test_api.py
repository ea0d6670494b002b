"""The service over real HTTP: real index, real models, uvicorn on loopback."""

from __future__ import annotations

import httpx
import pytest

from api_calls import ask_api, search_api
from corpus import DEFAULT_CORPUS_DIR, load_manifest

pytestmark = pytest.mark.integration

MANIFEST = load_manifest(DEFAULT_CORPUS_DIR)
FILES = {doc.file: (DEFAULT_CORPUS_DIR / doc.file).read_bytes().decode("utf-8") for doc in MANIFEST.documents}


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("第十九条", "social-insurance-law:19"),
        ("第19条", "social-insurance-law:19"),
        ("第１９条讲的是什么", "social-insurance-law:19"),
        ("社保法第86条", "social-insurance-law:86"),
        ("《社会保险法》第二十二条", "social-insurance-law:22"),
        ("Article 22", "social-insurance-law:22"),
        ("Art. 58 of the Social Insurance Law", "social-insurance-law:58"),
        ("失业保险条例第十四条怎么规定的", "unemployment-insurance-regulation:14"),
        ("经办条例第5条", "social-insurance-handling-regulation:5"),
        ("社會保險法第二十條", "social-insurance-law:20"),
    ],
)
def test_article_reference_is_rank_one(client: httpx.Client, query: str, key: str) -> None:
    results = search_api(client, query, top_k=5)
    assert results[0]["key"] == key
    assert any(r["retriever"] == "reference" for r in results[0]["found_by"])


def test_city_change_question_cites_article_19(client: httpx.Client) -> None:
    answer = ask_api(client, "我从武汉调到西安上班，原来交的养老保险还有用吗？")
    assert not answer["refused"]
    assert "social-insurance-law:19" in [c["key"] for c in answer["citations"]]


@pytest.mark.parametrize(
    "question",
    [
        "Does my pension history follow me to another province?",
        "What happens to my basic pension insurance when I work in a different region?",
    ],
)
def test_english_city_change_reaches_article_19(client: httpx.Client, question: str) -> None:
    keys = [r["key"] for r in search_api(client, question, top_k=5)]
    assert "social-insurance-law:19" in keys


@pytest.mark.parametrize(
    "question",
    [
        "How do I stop my insurance in the old city?",
        "换城市工作前，要先去原来的社保经办机构办什么手续？",
    ],
)
def test_guidance_questions_cite_the_guidance(client: httpx.Client, question: str) -> None:
    answer = ask_api(client, question)
    assert not answer["refused"]
    assert any(c["doc_id"] == "guidance-terminate-insured-relationship" for c in answer["citations"])


def test_missing_article_is_refused_with_reason(client: httpx.Client) -> None:
    answer = ask_api(client, "社保法第120条")
    assert answer["refused"] and answer["refusal_reason"] == "no_such_article"
    assert "98" in answer["answer"]


@pytest.mark.parametrize(
    "question",
    [
        "我从武汉调到西安上班，原来交的养老保险还有用吗？",
        "Is maternity insurance paid by me or by the company?",
        "失业保险金能领多久？",
        "工伤认定需要多长时间？",
        "社保法第58条",
        "How do I stop my insurance in the old city?",
    ],
)
def test_every_quote_is_verbatim_at_its_offsets(client: httpx.Client, question: str) -> None:
    answer = ask_api(client, question)
    assert answer["citations"]
    for citation in answer["citations"]:
        assert FILES[citation["file"]][citation["start"] : citation["end"]] == citation["quote"]
        assert f"[{citation['marker']}]" in answer["answer"]


def test_english_answer_names_the_english_title(client: httpx.Client) -> None:
    answer = ask_api(client, "What does Article 19 of the Social Insurance Law say?")
    assert "Article 19 of the Social Insurance Law of the People's Republic of China" in answer["answer"]


def test_article_endpoint_links_both_ways(client: httpx.Client) -> None:
    body = client.get("/v1/articles/social-insurance-law/15").json()
    assert "social-insurance-law-implementing-provisions:1" in [l["key"] for l in body["referred_by"]]
    assert body["text"].startswith("第十五条")
    guidance = client.get("/v1/articles/guidance-terminate-insured-relationship/step-2")
    assert guidance.status_code == 200 and guidance.json()["section"] == "step-2"


def test_documents_lists_the_corpus_with_its_version(client: httpx.Client) -> None:
    body = client.get("/v1/documents").json()
    assert [d["doc_id"] for d in body["documents"]] == MANIFEST.doc_ids
    law = body["documents"][0]
    assert law["articles"] == 98 and law["passages"] == 98 and "第二章 基本养老保险" in law["chapters"]
    assert body["corpus_version"] and body["index_version"]


def test_filters_restrict_results(client: httpx.Client) -> None:
    results = search_api(client, "失业保险金", top_k=10, filters={"doc_id": ["unemployment-insurance-regulation"]})
    assert results and {r["doc_id"] for r in results} == {"unemployment-insurance-regulation"}
    results = search_api(client, "养老保险", top_k=10, filters={"chapter": ["第二章 基本养老保险"]})
    assert results and {r["chapter"] for r in results} == {"第二章 基本养老保险"}


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/v1/ask", {"question": ""}, 422, "question is empty"),
        ("/v1/ask", {"question": " \t\n "}, 422, "question is empty"),
        ("/v1/ask", {"question": "养" * 2001}, 422, "limit is 2000"),
        ("/v1/ask", {"question": 42}, 422, "question"),
        ("/v1/ask", {}, 422, "question"),
        ("/v1/search", {"query": "养老", "top_k": 0}, 422, "top_k"),
        ("/v1/search", {"query": "养老", "top_k": 51}, 422, "top_k"),
        ("/v1/search", {"query": "养老", "filters": {"doc_id": ["no-such-law"]}}, 422, "no-such-law"),
        ("/v1/search", {"query": "养老", "filters": {"color": ["red"]}}, 422, "color"),
    ],
)
def test_bad_input_gets_a_clear_4xx(client: httpx.Client, path: str, body: dict, status: int, message: str) -> None:
    response = client.post(path, json=body)
    assert response.status_code == status
    assert message in response.json()["message"]


def test_missing_article_is_404(client: httpx.Client) -> None:
    response = client.get("/v1/articles/social-insurance-law/99")
    assert response.status_code == 404 and "98 articles" in response.json()["message"]
    assert client.get("/v1/articles/no-such-doc/1").status_code == 404


def test_oversized_body_is_413(client: httpx.Client) -> None:
    response = client.post("/v1/ask", content=b'{"question": "' + b"a" * 70_000 + b'"}', headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"


def test_health_and_docs(client: httpx.Client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["index_version"]
    assert client.get("/docs").status_code == 200
    assert "/v1/ask" in client.get("/openapi.json").json()["paths"]
