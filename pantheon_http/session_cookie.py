"""The browser session cookie: HttpOnly, SameSite=Lax, Secure on HTTPS deployments."""

from __future__ import annotations

from starlette.responses import Response

from pantheon_adapters.bootstrap import Settings

SESSION_COOKIE = "pantheon_session"


def set_session_cookie(response: Response, session_token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_token, max_age=settings.session_ttl_days * 86_400, path="/",
        secure=settings.secure_cookies, httponly=True, samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=settings.secure_cookies,
                           httponly=True, samesite="lax")
