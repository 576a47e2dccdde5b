"""The request body cap, per path: 1 MiB for the API's JSON, more for file uploads.

File bytes arrive only at the signed upload route (``PUT /api/v1/uploads/{token}``). There
the declared ``Content-Length`` is left to the route, which refuses anything over the file
limit as ``413 file_too_large`` (so an oversize file gets the same answer however large it
is), and the bytes actually received are cut off past the file limit plus a little
(``BodyTooLarge``, which the route also reports as ``file_too_large``). The use case
behind the route enforces the exact limit while it streams. Every other path keeps the
app's usual cap.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pantheon_http.body_limit import BodyLimitMiddleware, BodyTooLarge


class BodyLimitByPath:
    """``BodyLimitMiddleware`` with ``max_bytes``; under ``upload_prefix``, a streamed cap of
    ``upload_max_bytes`` instead."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_prefix: str,
                 upload_max_bytes: int) -> None:
        self.app = app
        self.default = BodyLimitMiddleware(app, max_bytes)
        self.upload_prefix = upload_prefix
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(
                self.upload_prefix):
            await self.default(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.upload_max_bytes:
                    raise BodyTooLarge(self.upload_max_bytes)
            return message

        await self.app(scope, receive_within_limit, send)
