"""Input hardening: size limits (declared and chunked bodies), bad JSON and bad
UTF-8 as 400, normalisation, validated fields, and one JSON error shape for all."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from reliability_support import FakeEngine, is_error_body

from eval.servers import Process
from qa_service.app import create_app
from qa_service.settings import ServiceSettings


@pytest.fixture
def client(app_settings: ServiceSettings, fake_engine: FakeEngine) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings, engine=fake_engine), raise_server_exceptions=False) as test_client:
        yield test_client


def post_raw(client: TestClient | httpx.Client, path: str, body: bytes | Iterator[bytes], **headers: str) -> httpx.Response:
    return client.post(path, content=body, headers={"content-type": "application/json", **headers})


def assert_error(response: httpx.Response, status: int, code: str, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code and fragment in body["message"], body


# --------------------------------------------------------------------------- in process


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        (b'{"question": "\xff\xfe\xfa"}', "invalid_body", "not valid UTF-8"),
        (b'{"question": "\xe5\x85"}', "invalid_body", "not valid UTF-8"),  # a truncated 3-byte sequence
        ('{"question": "养老'.encode(), "invalid_json", "not valid JSON"),
        (b'{"question": }', "invalid_json", "not valid JSON"),
        (b"not json at all", "invalid_json", "not valid JSON"),
        (b'{"question": "\\ud800 lone surrogate"}', "invalid_unicode", "lone surrogate"),
    ],
)
def test_undecodable_body_is_400_with_a_json_message(client: TestClient, body: bytes, code: str, fragment: str) -> None:
    assert_error(post_raw(client, "/v1/ask", body), 400, code, fragment)


def test_lone_surrogate_in_a_filter_is_400(client: TestClient) -> None:
    response = post_raw(client, "/v1/search", b'{"query": "x", "filters": {"doc_id": ["\\udcff"]}}')
    assert_error(response, 400, "invalid_unicode", "filters.doc_id")


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "fragment"),
    [
        ("/v1/ask", {"question": "养" * 2001}, 422, "invalid_question", "limit is 2000"),
        ("/v1/ask", {"question": "\u200b\u0000\t "}, 422, "invalid_question", "question is empty"),
        ("/v1/ask", {"question": "x", "top_k": 0}, 422, "invalid_request", "top_k"),
        ("/v1/search", {"query": "x", "top_k": 51}, 422, "invalid_request", "top_k"),
        ("/v1/search", {"query": "x", "top_k": "many"}, 422, "invalid_request", "top_k"),
        # strict types: nothing is coerced into top_k (the README promises 422 for wrong types)
        ("/v1/search", {"query": "x", "top_k": True}, 422, "invalid_request", "top_k: Input should be a valid integer"),
        ("/v1/ask", {"question": "x", "top_k": "5"}, 422, "invalid_request", "top_k: Input should be a valid integer"),
        ("/v1/ask", {"question": "x", "top_k": 5.0}, 422, "invalid_request", "top_k: Input should be a valid integer"),
        # one U+FDFA is 18 characters after NFKC: 2,000 of them are 36,000
        ("/v1/ask", {"question": "\ufdfa" * 2000}, 422, "invalid_question",
         "question is 36000 characters after normalisation (NFKC); the limit is 2000"),
        ("/v1/search", {"query": "\ufdfa" * 112}, 422, "invalid_question", "query is 2016 characters after normalisation"),
        ("/v1/search", {"query": "x", "filters": {"color": ["red"]}}, 422, "invalid_request", "color"),
        ("/v1/search", {"query": "x", "filters": {"doc_id": "not-a-list"}}, 422, "invalid_request", "doc_id"),
        ("/v1/ask", {"question": "x", "unexpected": 1}, 422, "invalid_request", "unexpected"),
        ("/v1/ask", [], 422, "invalid_request", ""),
    ],
)
def test_invalid_fields_are_422(client: TestClient, path: str, body: object, status: int, code: str, fragment: str) -> None:
    assert_error(client.post(path, json=body), status, code, fragment)


def test_question_at_the_limit_is_accepted(client: TestClient) -> None:
    assert client.post("/v1/ask", json={"question": "养" * 2000}).status_code == 200
    # 111 × 18 = 1,998 characters after NFKC: under the limit
    assert client.post("/v1/ask", json={"question": "\ufdfa" * 111}).status_code == 200
    assert client.post("/v1/search", json={"query": "x", "top_k": 50}).status_code == 200


def test_openapi_states_the_text_limits_from_the_settings(app_settings: ServiceSettings, fake_engine: FakeEngine) -> None:
    for limit in (2000, 500):
        app = create_app(app_settings.model_copy(update={"max_question_chars": limit}), engine=fake_engine)
        schemas = TestClient(app).get("/openapi.json").json()["components"]["schemas"]
        for model, field in (("AskRequest", "question"), ("SearchRequest", "query")):
            prop = schemas[model]["properties"][field]
            assert (prop["minLength"], prop["maxLength"]) == (1, limit), (model, prop)
        for model in ("AskRequest", "SearchRequest"):
            top_k = schemas[model]["properties"]["top_k"]
            assert (top_k["type"], top_k["minimum"], top_k["maximum"]) == ("integer", 1, 50)


@pytest.mark.parametrize("token", ["a" * 15, "valid-looking-token\x07x", "valid-looking-token\x1b[2J", "tab\tinside-a-long-token",
                                   "space inside a long token", "non-ascii-token-éééééé", "del-char-in-token\x7f"])
def test_admin_token_must_be_printable_ascii(token: str) -> None:
    with pytest.raises(ValidationError, match="at least 16 printable ASCII characters") as caught:
        ServiceSettings(admin_token=token)
    assert token not in str(caught.value)  # a rejected secret is not echoed


def test_admin_token_accepts_every_printable_ascii_character() -> None:
    token = "".join(chr(c) for c in range(0x21, 0x7F))
    assert ServiceSettings(admin_token=token).admin_token.get_secret_value() == token


def test_declared_oversized_body_is_413_before_reading(client: TestClient) -> None:
    response = post_raw(client, "/v1/ask", b'{"question": "' + b"a" * 70_000 + b'"}')
    assert_error(response, 413, "body_too_large", "65536 bytes")


def test_oversized_body_without_content_length_is_413(client: TestClient) -> None:
    """The body arrives in chunks with no Content-Length: counted as it is read."""

    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(80):
            yield b"a" * 1024
        yield b'"}'

    assert_error(post_raw(client, "/v1/ask", chunks()), 413, "body_too_large", "65536 bytes")


def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    response = client.get("/v1/ask")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]


def test_unexpected_exception_is_a_json_500_with_the_request_id(client: TestClient, fake_engine: FakeEngine) -> None:
    fake_engine.fail_with = RuntimeError("a bug")
    response = client.post("/v1/ask", json={"question": "x"}, headers={"X-Request-ID": "trace-500"})
    assert_error(response, 500, "internal_error", "request id trace-500")
    assert "a bug" not in response.text  # internals stay in the log


def test_backend_connection_failure_is_503(client: TestClient, fake_engine: FakeEngine) -> None:
    fake_engine.fail_with = httpx.ConnectError("[Errno 111] Connection refused")
    response = client.post("/v1/search", json={"query": "x"})
    assert_error(response, 503, "unavailable", "unreachable")
    assert response.headers["retry-after"] == "5"


def test_collection_missing_from_chroma_is_503(client: TestClient, fake_engine: FakeEngine) -> None:
    from chromadb.errors import NotFoundError

    fake_engine.fail_with = NotFoundError("Collection [0f38b90a] does not exist.")
    assert_error(client.post("/v1/ask", json={"question": "x"}), 503, "unavailable", "run a re-ingest")


def test_superscript_digit_article_is_404_not_500(client: TestClient) -> None:
    """Regression: '²'.isdigit() is true but int('²') raises; the article route gave 500.
    The stand-in index records the keys it is asked for: '²' must be looked up as
    a section key, and an ASCII '2' as an article number."""
    from qa_service.deps import get_engine

    asked: list[str] = []

    class Index:
        manifest = type("M", (), {"doc_ids": ["law"], "document": lambda self, d: type("D", (), {"articles": 3})()})()

        def passage(self, key: str) -> None:
            asked.append(key)
            return None

    client.app.dependency_overrides[get_engine] = lambda: type("E", (), {"index": Index()})()
    try:
        assert_error(client.get("/v1/articles/law/²"), 404, "not_found", "law has no article or section '²' (it has 3 articles)")
        assert_error(client.get("/v1/articles/law/2"), 404, "not_found", "law has no article or section '2'")
    finally:
        client.app.dependency_overrides.clear()
    assert asked == ["law#²", "law:2"]


# --------------------------------------------------------------------------- the real server


@pytest.mark.integration
@pytest.mark.slow
class TestOverHttp:
    def test_chunked_oversized_body_is_413_over_real_http(self, rel_client: httpx.Client) -> None:
        def chunks() -> Iterator[bytes]:
            yield b'{"question": "'
            for _ in range(100):
                yield "养".encode() * 400
            yield b'"}'

        response = post_raw(rel_client, "/v1/ask", chunks())
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert_error(response, 413, "body_too_large")

    def test_small_chunked_body_is_answered(self, rel_client: httpx.Client) -> None:
        def chunks() -> Iterator[bytes]:
            yield '{"question": "社保法'.encode()
            yield '第58条"}'.encode()

        response = post_raw(rel_client, "/v1/ask", chunks())
        assert response.status_code == 200, response.text
        assert response.json()["citations"][0]["key"] == "social-insurance-law:58"

    def test_invalid_utf8_over_real_http(self, rel_client: httpx.Client) -> None:
        assert_error(post_raw(rel_client, "/v1/search", b'{"query": "\xc3\x28"}'), 400, "invalid_body", "UTF-8")

    @pytest.mark.parametrize(
        "query",
        ["第\u200b十九条", "第１９条", "社會保險法第十九條", "\ufeff第19条\u202e", "ｓｏｃｉａｌ insurance law Art. １９"],
    )
    def test_normalised_references_find_the_article(self, rel_client: httpx.Client, query: str) -> None:
        response = rel_client.post("/v1/search", json={"query": query, "top_k": 3})
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["key"] == "social-insurance-law:19"

    def test_every_error_is_the_json_shape(self, rel_client: httpx.Client) -> None:
        for response in [
            rel_client.get("/v1/articles/no-such-doc/1"),
            rel_client.get("/v1/articles/social-insurance-law/999"),
            rel_client.post("/v1/ask", json={"question": ""}),
            rel_client.post("/v1/ask", content=b"{", headers={"content-type": "application/json"}),
            rel_client.delete("/v1/ask"),
            rel_client.get("/v1/admin/reingest/nope"),
        ]:
            assert 400 <= response.status_code < 500 and is_error_body(response.json()), response.text

    def test_the_real_service_caps_headers_answers_head_and_strict_types(
        self, rel_service: Process, rel_client: httpx.Client
    ) -> None:
        """`python -m qa_service serve` uses the guarded protocol: a 1 MiB header is
        431 (JSON), logged as a JSON record, while /healthz keeps answering."""
        import socket

        with socket.create_connection(("127.0.0.1", rel_service.port), timeout=30) as sock:
            try:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"a" * (1024 * 1024) + b"\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        assert received.startswith(b"HTTP/1.1 431 "), received[:200]
        assert json.loads(received.partition(b"\r\n\r\n")[2])["error"] == "headers_too_large"
        assert rel_client.get("/healthz").status_code == 200
        head = rel_client.head("/healthz")
        assert head.status_code == 200 and head.content == b""
        assert_error(rel_client.post("/v1/search", json={"query": "养老保险", "top_k": True}), 422, "invalid_request", "top_k")
        rejected = [r for r in rel_service.log_records() if r.get("event") == "request_rejected"]
        assert rejected and rejected[-1]["status"] == 431 and rejected[-1]["logger"] == "qa_service.edge"
