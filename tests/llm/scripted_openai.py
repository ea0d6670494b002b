"""A real HTTP server on loopback that speaks the OpenAI chat-completions protocol
(POST /v1/chat/completions, JSON or SSE when "stream": true) and answers from a
script: each reply is a function of the request body, so a test can cite the
passages the service actually supplied."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | Callable[[dict[str, Any]], str] = ""
    status: int = 200
    delay_s: float = 0.0


@dataclass
class ScriptedOpenAI:
    host: str = "127.0.0.1"
    port: int = 0
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def expect(self, *replies: Reply) -> None:
        self.script[:] = list(replies)
        self.requests.clear()

    def start(self) -> ScriptedOpenAI:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                owner.requests.append(body)
                reply = owner.script.pop(0) if owner.script else Reply(status=500, content="script exhausted")
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status != 200:
                    error = {"error": {"message": str(reply.content) or "scripted failure", "type": "server_error"}}
                    self._send(reply.status, json.dumps(error).encode())
                    return
                content = reply.content(body) if callable(reply.content) else reply.content
                created = int(time.time())
                if body.get("stream"):
                    chunks = [content[i : i + 8] for i in range(0, len(content), 8)]
                    events = [
                        {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": created,
                         "model": body.get("model"), "choices": [{"index": 0, "delta": {"role": "assistant", "content": c}, "finish_reason": None}]}
                        for c in chunks
                    ]
                    events.append({"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": created,
                                   "model": body.get("model"), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    data = "".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n" for e in events) + "data: [DONE]\n\n"
                    self._send(200, data.encode(), "text/event-stream")
                    return
                completion = {
                    "id": "chatcmpl-scripted",
                    "object": "chat.completion",
                    "created": created,
                    "model": body.get("model"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                self._send(200, json.dumps(completion, ensure_ascii=False).encode())

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
