"""CSRF protection without tokens: a browser's unsafe request must come from a trusted page.

Browsers attach the session cookie to requests that other sites' pages make, but they also
say where such a request comes from, in headers a page cannot set (``Sec-Fetch-Site``,
``Origin``). So for every method but GET, HEAD and OPTIONS (docs/security.md):

1. exempt: requests with an ``Authorization`` header (a bearer token is never attached by
   the browser on its own), the Stripe webhook (signed) and signed upload links (the link
   is the credential);
2. ``Sec-Fetch-Site: same-origin`` or ``none`` (typed by the user): allowed;
3. an ``Origin`` header: allowed only for a trusted origin — the API's public origin, the
   origin the request was sent to, or an allowed CORS origin (``PANTHEON_CORS_ORIGINS``,
   ``PANTHEON_WEB_URL``); ``Origin: null`` is refused;
4. ``Sec-Fetch-Site`` saying same-site or cross-site with no ``Origin``: refused;
5. no browser signal but a ``Referer``: its origin must be trusted (older browsers);
6. none of these (curl, scripts, the CLI — clients without a victim's cookie jar): allowed.

Refusals are ``403 csrf_failed``. Sign-in is covered too (a forged sign-in, "login CSRF",
is an unsafe request like any other), so the rule does not depend on a cookie being sent.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from pantheon_http.browser_policy import (
    BrowserPolicy,
    normalize_origin,
    policy_of,
    request_origin,
)
from pantheon_http.errors import error_response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})

logger = logging.getLogger("pantheon.http.csrf")


class CsrfMiddleware:
    """Refuses cross-site unsafe requests (rules above); ``exempt_prefixes`` are paths
    whose requests carry their own proof (a signature) instead of ambient credentials."""

    def __init__(self, app: ASGIApp, *, exempt_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = policy_of(scope)
        if (scope["type"] != "http" or policy is None or scope["method"] in SAFE_METHODS
                or str(scope["path"]).startswith(self.exempt_prefixes)):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = _refusal(headers, policy, request_origin(scope))
        if refusal is None:
            await self.app(scope, receive, send)
            return
        logger.warning("Refused a cross-site %s %s: %s", scope["method"], scope["path"], refusal)
        response = error_response(
            403, "csrf_failed",
            "This request came from a page this server does not trust, so it was refused. "
            "Use the Pantheon web app, or send an API token (Authorization: Bearer pan_…).",
            {"reason": refusal, "origin": headers.get("origin")})
        await response(scope, receive, send)


def _refusal(headers: Headers, policy: BrowserPolicy, target: str | None) -> str | None:
    """Why this unsafe request is refused, or ``None`` if it may proceed."""
    if "authorization" in headers:
        return None
    site = headers.get("sec-fetch-site")
    if site in TRUSTED_FETCH_SITES:
        return None
    origin = headers.get("origin")
    if origin is not None:
        trusted = policy.is_trusted(normalize_origin(origin), request_origin=target)
        return None if trusted else "untrusted_origin"
    if site is not None:
        return "cross_site_without_origin"
    referer = headers.get("referer")
    if referer is not None and not policy.is_trusted(normalize_origin(referer),
                                                     request_origin=target):
        return "untrusted_referer"
    return None
