"""What browsers may do with this API: which origins it trusts, and its transport rules.

One :class:`BrowserPolicy` is made from the settings by ``create_app`` and kept on
``app.state``; the CORS, CSRF and security-header middleware read it per request (so an
app whose state is swapped, as the tests do, follows the new settings).

Origins are compared in one normal form, ``scheme://host[:port]``: lower case, default
ports dropped (``https://App.example.com:443`` is ``https://app.example.com``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import Scope

from pantheon_adapters.bootstrap import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class BrowserPolicy:
    public_origin: str  # the API's own origin (PANTHEON_PUBLIC_URL)
    cors_origins: frozenset[str]  # other origins allowed credentialed access (the web app…)
    hsts: str | None  # the Strict-Transport-Security value, or None (not production https)

    @classmethod
    def of(cls, settings: Settings) -> BrowserPolicy:
        return cls(public_origin=settings.public_origin,
                   cors_origins=frozenset(settings.allowed_origins),
                   hsts=settings.hsts_header)

    def allows_cross_origin(self, origin: str | None) -> bool:
        """May a page of ``origin`` (normalised) call this API with credentials?"""
        return origin is not None and origin in self.cors_origins

    def is_trusted(self, origin: str | None, *, request_origin: str | None) -> bool:
        """Is ``origin`` this API's own (its public origin, or the origin the request was
        sent to: its scheme and ``Host``) or an allowed cross-origin one?"""
        if origin is None:
            return False
        return origin in (self.public_origin, request_origin) or origin in self.cors_origins


def normalize_origin(value: str | None) -> str | None:
    """``scheme://host[:port]`` of an ``Origin`` header (or a ``Referer`` URL); ``None`` for
    ``null``, garbage or anything not http(s)."""
    if not value or value == "null":
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def request_origin(scope: Scope) -> str | None:
    """The origin this request was addressed to: its scheme (``https`` behind a trusted
    proxy that says so) and its ``Host`` header."""
    host = Headers(scope=scope).get("host")
    return normalize_origin(f"{scope.get('scheme', 'http')}://{host}") if host else None


def policy_of(scope: Scope) -> BrowserPolicy | None:
    """The policy of the app serving this request (``None`` outside ``create_app``'s apps)."""
    app = scope.get("app")
    state = getattr(app, "state", None)
    policy = getattr(state, "browser_policy", None)
    return policy if isinstance(policy, BrowserPolicy) else None
