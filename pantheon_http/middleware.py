"""The outermost layer of every request: its id, its access line, its metrics, and the
last-resort 500.

A plain ASGI middleware (not ``BaseHTTPMiddleware``), so the request id set here is the
one every handler, use case and log record below sees, and nothing is buffered.
"""

from __future__ import annotations

import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pantheon_http.errors import internal_error_response
from pantheon_http.logs import log_access
from pantheon_http.request_id import (
    HEADER,
    accept_request_id,
    bind_request_id,
    unbind_request_id,
)
from pantheon_http.request_metrics import RequestMeter


class RequestContextMiddleware:
    """Adds ``X-Request-ID`` to every response (errors included) and logs one access line.

    An exception no handler turned into a response becomes the ``internal_error`` 500
    here, inside this middleware, so that answer carries the request id too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(Headers(scope=scope).get(HEADER))
        token = bind_request_id(request_id)
        started = time.perf_counter()
        meter = RequestMeter(scope)
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                meter.response_started(message)
                message.setdefault("headers", [])
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if response_started:
                raise  # too late for an error body; the server logs and closes the connection
            await internal_error_response(exc)(scope, receive, send_with_id)
        finally:
            log_access(method=scope["method"], path=scope["path"], status=status,
                       duration_ms=(time.perf_counter() - started) * 1000)
            meter.finished(scope, status)
            unbind_request_id(token)
