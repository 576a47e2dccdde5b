"""One request's share of the HTTP metrics: counted by route *template*, method and status class.

The route is the one the router matched (``/api/v1/rooms/{room_id}``), never the raw path,
so ids and scanners' junk cannot multiply the series; requests no route matched (the web
app's files, 404s) share ``route="unmatched"``. A turn's event stream (SSE or NDJSON) is
counted in ``pantheon_streams_active`` while open, and its latency is the time to its first
byte: a stream's length is the turn's, not the server's speed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from starlette.datastructures import Headers
from starlette.types import Message, Scope

if TYPE_CHECKING:  # the type only: delivery packages never import adapters at run time
    from pantheon_adapters.bootstrap import Metrics

UNMATCHED: Final = "unmatched"
STREAM_TYPES: Final = ("text/event-stream", "application/x-ndjson")


class RequestMeter:
    """Started when a request arrives, told when its response starts and when it ends."""

    def __init__(self, scope: Scope) -> None:
        state = getattr(scope.get("app"), "state", None)
        self._metrics: Metrics | None = getattr(state, "metrics", None)
        self._method = str(scope.get("method", ""))
        self._started = time.perf_counter()
        self._first_byte: float | None = None
        self._streaming = False

    def response_started(self, message: Message) -> None:
        self._first_byte = time.perf_counter()
        content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
        if self._metrics is not None and content_type.startswith(STREAM_TYPES):
            self._streaming = True
            self._metrics.stream_opened()

    def finished(self, scope: Scope, status: int) -> None:
        if self._metrics is None:
            return
        if self._streaming:
            self._metrics.stream_closed()
        ended = self._first_byte if self._streaming and self._first_byte else time.perf_counter()
        self._metrics.observe_request(method=self._method, route=route_template(scope),
                                      status=status, duration_s=ended - self._started)


def route_template(scope: Scope) -> str:
    """The matched route's whole path template (router prefixes included), or ``unmatched``.

    FastAPI (0.16x) keeps included routers nested: ``scope["route"]`` is the route as its
    own router declared it (no prefix), and the whole template is on the route context it
    records under ``scope["fastapi"]``; older versions copied the routes, prefix included,
    and ``scope["route"]`` says it all. ``test_http_metrics`` pins the result."""
    fastapi_scope = scope.get("fastapi")
    context = fastapi_scope.get("effective_route_context") if isinstance(
        fastapi_scope, dict) else None
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED
