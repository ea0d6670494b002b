"""What happens before the app sees a request: the request head's size and
header count are capped at the connection, framing errors are answered in JSON,
and HEAD is answered wherever GET is.

uvicorn's httptools parser has no limit on the request head: a client sending a
64 MiB header got a 200 after 5 s, and the parser's work on it (header values
are joined piece by piece) held up every other connection of the event loop.
`guarded_protocol(settings)` is uvicorn's httptools protocol with a count of the
head's bytes *before* they reach the parser: past the limit, the connection is
answered 431 with the JSON error at once and the rest of what the client sends
is read and dropped (unparsed) for a short while, so that the client reads the
answer instead of a reset connection.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger("qa_service.edge")

# After a rejection: read and drop what the client still sends, for at most this
# long or this many bytes, then close (a lingering close, as nginx does).
LINGER_S = 2.0
LINGER_MAX_BYTES = 64 * 1024 * 1024
_HEAD_END = b"\r\n\r\n"


def json_response(status: int, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 response with the service's error body; the connection closes after it."""
    body = json.dumps({"error": code, "message": message}, ensure_ascii=False).encode("utf-8")
    return b"".join([
        STATUS_LINE[status],
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
        b"connection: close\r\n",
        b"\r\n",
        body,
    ])


class _TooManyHeaders(Exception):
    pass


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded request head (request line and
    headers): over `max_head_bytes` bytes or `max_headers` fields → 431 JSON."""

    max_head_bytes = 16 * 1024
    max_headers = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._tail = b""  # the last bytes seen in the head, to find its end across reads
        self._in_head = True
        self._header_count = 0
        self._too_many_headers = False
        self._rejected = False
        self._dropped = 0

    # -- counting the head before the parser sees it

    def _head_too_large(self, data: bytes) -> bool:
        window = self._tail + data
        end = window.find(_HEAD_END)
        if end >= 0:  # the head ends in this read; the parser takes it from here
            return self._head_bytes + end + len(_HEAD_END) - len(self._tail) > self.max_head_bytes
        self._head_bytes += len(data)
        self._tail = window[-(len(_HEAD_END) - 1):]
        return self._head_bytes > self.max_head_bytes

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            self._drop(data)
            return
        if self._in_head and self._head_too_large(data):
            self._reject(431, "headers_too_large",
                         f"request line and headers over {self.max_head_bytes} bytes")
            return
        super().data_received(data)  # a parser error (or too many headers) comes back as send_400_response

    # -- parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.max_headers:
            self._too_many_headers = True
            raise _TooManyHeaders  # httptools stops parsing and raises HttpParserCallbackError
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._tail = True, 0, b""  # the next request on this connection

    # -- answers that never reach the app

    def send_400_response(self, msg: str) -> None:
        if self._too_many_headers:
            self._reject(431, "headers_too_large", f"more than {self.max_headers} header fields")
        else:
            self._reject(400, "invalid_http", "the request is not valid HTTP/1.1")

    def _reject(self, status: int, code: str, message: str) -> None:
        self._rejected = True
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
        log.warning("%d %s from %s: %s", status, code, client, message,
                    extra={"event": "request_rejected", "status": status, "error": code, "client": client})
        self.transport.write(json_response(status, code, message))
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the client reads the answer, then end of stream
        self.loop.call_later(LINGER_S, self.transport.close)

    def _drop(self, data: bytes) -> None:
        self._dropped += len(data)
        if self._dropped > LINGER_MAX_BYTES:
            self.transport.close()


def guarded_protocol(max_head_bytes: int, max_headers: int) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for `uvicorn.run(..., http=...)` with these limits."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,),
                {"max_head_bytes": max_head_bytes, "max_headers": max_headers})


class HeadAsGetMiddleware:
    """HEAD answered wherever GET is (uptime checkers use HEAD): the app sees a
    GET, the client gets its status and headers without the body. FastAPI routes
    declared with GET do not answer HEAD by themselves (405)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
