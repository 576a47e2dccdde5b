"""Security headers on every answer (docs/security.md).

Set outside everything else, so errors (the last-resort 500 included) carry them too. A
header an answer already has is kept: pages set their own Content-Security-Policy (the web
app's, the API docs', the sign-in pages') and the rest get :data:`~pantheon_http.csp.API_CSP`.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pantheon_http.browser_policy import policy_of
from pantheon_http.csp import API_CSP

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "accelerometer=(), camera=(), geolocation=(), gyroscope=(), "
                          "magnetometer=(), microphone=(), payment=(), usb=()",
    "Content-Security-Policy": API_CSP,
}


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` (where missing), and ``Strict-Transport-Security`` on a
    production HTTPS deployment."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = policy_of(scope)
        hsts = policy.hsts if policy is not None else None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if hsts is not None:
                    headers["Strict-Transport-Security"] = hsts
            await send(message)

        await self.app(scope, receive, send_with_headers)
