"""The browser session cookie (docs/security.md).

Always HttpOnly and ``Path=/``, never a ``Domain`` (host-only). ``Secure`` on HTTPS
deployments and always in production. ``SameSite=Lax`` by default; ``PANTHEON_COOKIE_SAMESITE=
none`` for a web app on another site than the API (it requires Secure). In production the
name carries the ``__Host-`` prefix, which browsers accept only on such a cookie, so no
sibling subdomain (or plain-http page) can plant or overwrite it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pantheon_adapters.bootstrap import Settings

SESSION_COOKIE = "pantheon_session"
HOST_PREFIX = "__Host-"


def session_cookie_name(settings: Settings) -> str:
    """``__Host-pantheon_session`` where the prefix is on, else ``pantheon_session``."""
    return HOST_PREFIX + SESSION_COOKIE if settings.session_cookie_host_prefix else SESSION_COOKIE


def read_session_cookie(request: Request, settings: Settings) -> str | None:
    """This browser's session token, under the name this deployment uses (only that one)."""
    return request.cookies.get(session_cookie_name(settings)) or None


def set_session_cookie(response: Response, session_token: str, settings: Settings) -> None:
    response.set_cookie(
        session_cookie_name(settings), session_token,
        max_age=settings.session_ttl_days * 86_400, path="/", secure=settings.secure_cookies,
        httponly=True, samesite=settings.cookie_samesite,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(session_cookie_name(settings), path="/",
                           secure=settings.secure_cookies, httponly=True,
                           samesite=settings.cookie_samesite)
