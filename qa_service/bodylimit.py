"""Request body size limit, for declared (Content-Length) and chunked bodies alike."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa_service.errors import BodyTooLarge, error


class BodyLimitMiddleware:
    """413 before reading when Content-Length is over the limit (or not a number);
    otherwise count the bytes as they arrive and stop at the limit, so a chunked
    upload without Content-Length cannot make the service buffer more.

    The counting `receive` raises BodyTooLarge, an HTTPException: FastAPI passes
    it through its body parsing unchanged, so the app's handler answers with the
    JSON error; if it escapes to here instead, it is answered here.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            message = f"request body over {self.limit} bytes" if declared.isdigit() else "invalid Content-Length"
            await error(413 if declared.isdigit() else 400, "body_too_large" if declared.isdigit() else "invalid_body",
                        message)(scope, receive, send)
            return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if response_started:
                raise
            await error(413, "body_too_large", str(exc.detail))(scope, receive, send)


def _content_length(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-length":
            return value.decode("latin-1").strip()
    return None
