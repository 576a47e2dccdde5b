"""CORS for a web app hosted on another origin (``PANTHEON_CORS_ORIGINS``, ``PANTHEON_WEB_URL``).

Credentialed (cookie) requests are allowed from the configured origins only — never ``*``.
With none configured, the API is same-origin only: no ``Access-Control-*`` headers, and a
preflight is refused. Two pieces, so every answer is right:

- :class:`CorsPreflight` answers preflights (``OPTIONS`` with ``Access-Control-Request-
  Method``) inside the request context, so they carry ``X-Request-ID`` and are logged:
  ``204`` for an allowed origin, method and headers; ``403 cors_not_allowed`` otherwise.
- :class:`CorsHeaders` adds ``Access-Control-Allow-Origin``/``-Credentials`` and the exposed
  headers to every other answer for an allowed origin, outside everything else, so a 500
  made by the last-resort handler reaches the cross-origin page readable too.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pantheon_http.browser_policy import BrowserPolicy, normalize_origin, policy_of
from pantheon_http.errors import error_response
from pantheon_http.request_id import HEADER as REQUEST_ID_HEADER

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = ("accept", "accept-language", "authorization", "content-language",
                   "content-type", "last-event-id", REQUEST_ID_HEADER.lower())
EXPOSED_HEADERS = (REQUEST_ID_HEADER, "Retry-After", "Content-Disposition", "Location")
PREFLIGHT_MAX_AGE_S = 600


def _allowed_origin(scope: Scope) -> tuple[BrowserPolicy | None, str | None]:
    """The policy, and the request's ``Origin`` header if it is an allowed CORS origin."""
    policy = policy_of(scope)
    origin = Headers(scope=scope).get("origin")
    if policy is None or origin is None:
        return policy, None
    return policy, origin if policy.allows_cross_origin(normalize_origin(origin)) else None


class CorsHeaders:
    """Adds the CORS answer headers for an allowed origin; ``Vary: Origin`` whenever any
    CORS origin is configured (the answer then depends on it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy, origin = _allowed_origin(scope)
        if policy is None or not policy.cors_origins:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Origin")
                if origin is not None and "access-control-allow-origin" not in headers:
                    headers["Access-Control-Allow-Origin"] = origin
                    headers["Access-Control-Allow-Credentials"] = "true"
                    headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_cors)


class CorsPreflight:
    """Answers CORS preflight requests (see the module docstring); passes the rest on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "origin" not in headers or "access-control-request-method" not in headers:
            await self.app(scope, receive, send)
            return
        _, origin = _allowed_origin(scope)
        method = headers["access-control-request-method"].strip().upper()
        asked = [h.strip().lower() for h in
                 headers.get("access-control-request-headers", "").split(",") if h.strip()]
        refused = _refusal(origin, method, asked)
        response: Response
        if origin is None or refused is not None:
            message, details = refused or ("", {})
            response = error_response(403, "cors_not_allowed", message,
                                      {"origin": headers["origin"], **details})
        else:
            response = _preflight_ok(origin)
        await response(scope, receive, send)


def _refusal(origin: str | None, method: str,
             asked: list[str]) -> tuple[str, dict[str, object]] | None:
    if origin is None:
        return ("This origin may not call the API from a browser. An operator can allow it "
                "with PANTHEON_CORS_ORIGINS.", {})
    if method not in ALLOWED_METHODS:
        return (f"The method {method} is not allowed.", {"allowed_methods": list(ALLOWED_METHODS)})
    unknown = [h for h in asked if h not in ALLOWED_HEADERS]
    if unknown:
        return (f"These request headers are not allowed: {', '.join(unknown)}.",
                {"allowed_headers": list(ALLOWED_HEADERS)})
    return None


def _preflight_ok(origin: str) -> Response:
    return Response(status_code=204, headers={
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
        "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    })
