"""The HTTP edge under a real uvicorn server on loopback (qa_service.edge): a cap
on the request head's size and header count (431 with the JSON error, while
other clients keep being answered), JSON for framing errors, HEAD wherever GET
is answered. The app runs with the stand-in engine: no model is needed here."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from reliability_support import FakeEngine, is_error_body

from eval.servers import HOST, ThreadServer
from qa_service.app import create_app
from qa_service.settings import ServiceSettings

pytestmark = pytest.mark.integration  # starts a server (no model)

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def edge_settings(tmp_path_factory: pytest.TempPathFactory) -> ServiceSettings:
    return ServiceSettings(data_dir=tmp_path_factory.mktemp("edge-data"), rate_limit="")


@pytest.fixture(scope="module")
def server(edge_settings: ServiceSettings) -> Iterator[ThreadServer]:
    with ThreadServer(create_app(edge_settings, engine=FakeEngine()), edge_settings) as running:
        yield running


def exchange(port: int, request: bytes, timeout_s: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read to the end of the stream; (status, headers, body) of the first response."""
    with socket.create_connection((HOST, port), timeout=timeout_s) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and stop reading before everything is sent
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(headers.get("content-length", len(body)))
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body[:length]


def get(path: str, *headers: str) -> bytes:
    return "\r\n".join([f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "Connection: close", "", ""]).encode()


def test_a_one_mebibyte_header_is_431_while_other_clients_are_answered(server: ThreadServer) -> None:
    outcome: dict[str, object] = {}

    def send_huge() -> None:
        outcome["answer"] = exchange(server.port, get("/healthz", "X-Huge: " + "a" * MIB))

    sender = threading.Thread(target=send_huge)
    sender.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        statuses = [client.get("/healthz").status_code for _ in range(20)]
    sender.join(timeout=60)
    assert not sender.is_alive()
    status, headers, body = outcome["answer"]  # type: ignore[misc]
    assert status == 431
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    message = json.loads(body)
    assert is_error_body(message) and message["error"] == "headers_too_large"
    assert message["message"] == "request line and headers over 16384 bytes"
    assert statuses == [200] * 20


def test_a_head_just_under_the_limit_is_answered(server: ThreadServer, edge_settings: ServiceSettings) -> None:
    request = get("/healthz", "X-Pad: ")
    pad = edge_settings.max_header_bytes - len(request)
    status, _, body = exchange(server.port, get("/healthz", "X-Pad: " + "p" * pad))
    assert len(get("/healthz", "X-Pad: " + "p" * pad)) == edge_settings.max_header_bytes
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, _, _ = exchange(server.port, get("/healthz", "X-Pad: " + "p" * (pad + 1)))
    assert status == 431


def test_too_many_header_fields_is_431(server: ThreadServer, edge_settings: ServiceSettings) -> None:
    fields = [f"X-Field-{i}: {i}" for i in range(edge_settings.max_headers)]  # + Host + Connection
    status, _, body = exchange(server.port, get("/healthz", *fields))
    assert status == 431, body
    assert json.loads(body) == {"error": "headers_too_large", "message": "more than 100 header fields"}
    status, _, _ = exchange(server.port, get("/healthz", *fields[:-2]))  # exactly 100 with Host and Connection
    assert status == 200


def test_a_body_arriving_with_its_head_is_not_counted_as_head(server: ThreadServer) -> None:
    """Regression guard for the head count: a 60 KiB body in the same write as the
    headers is a body, not an oversized head."""
    body = json.dumps({"question": "养老保险" + "a" * 60_000}).encode()
    request = (b"POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    status, _, answer = exchange(server.port, request)
    assert status == 422 and json.loads(answer)["error"] == "invalid_request"  # `query` missing, not 431


def test_pipelined_requests_are_each_answered(server: ThreadServer) -> None:
    one = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection((HOST, server.port), timeout=30) as sock:
        sock.sendall(one * 3 + get("/healthz"))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 4


def test_a_framing_error_is_a_json_400(server: ThreadServer) -> None:
    status, headers, body = exchange(server.port, b"THIS IS NOT HTTP\r\n\r\n")
    assert status == 400 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": "invalid_http", "message": "the request is not valid HTTP/1.1"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json", "/"])
def test_head_is_answered_where_get_is(server: ThreadServer, path: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        got, head = client.get(path), client.head(path)
    assert got.status_code == 200
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_head_on_a_post_route_is_405_like_get(server: ThreadServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        head = client.head("/v1/ask")
    assert head.status_code == 405 and "POST" in head.headers["allow"]
