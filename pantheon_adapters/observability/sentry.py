"""Error reports to Sentry, when ``PANTHEON_SENTRY_DSN`` is set (NFR-OBS-001).

Unset, nothing happens: ``sentry_sdk`` is not even imported. Set, the SDK reports every
error-level log record with an exception (the API's last-resort 500, a crashed turn, a job
that failed for good) and every uncaught exception, tagged with ``service``,
``environment``, ``release`` and the correlation ids of the work that failed
(``request_id``, ``user_id``, ``turn_id``, ``job``, ``message_id``).

What never leaves the process: cookies, ``Authorization`` and other credential headers,
request bodies, query strings (a sign-in link's token travels in one), anything that looks
like a Pantheon API token, session secret or ``token=`` parameter, and local variables of
stack frames (settings and containers there hold keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import metadata
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from pantheon_adapters.settings import Settings
from pantheon_core import correlation

FILTERED: Final = "[Filtered]"
SENSITIVE_HEADERS: Final = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
    "stripe-signature", "x-csrf-token", "x-forwarded-for", "x-real-ip"})
_SECRETS: Final = (
    # Pantheon API tokens and session secrets (``pan_…``, ``pss_…``)
    (re.compile(r"\b(pan|pss)_[A-Za-z0-9_\-]{8,}"), r"\1_" + FILTERED),
    # ``token=…``, ``sig=…`` in a URL or a message (a magic link's token)
    (re.compile(r"(?i)\b(token|secret|signature|sig|key)=[^&\s\"'#]+"), r"\1=" + FILTERED),
    # ``Bearer …`` anywhere
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]+"), "Bearer " + FILTERED),
    # the query string of any URL
    (re.compile(r"(https?://[^\s?#\"']+)\?[^\s#\"']*"), r"\1?" + FILTERED),
)


def init_sentry(settings: Settings, *, service: str) -> bool:
    """Start reporting to ``settings.sentry_dsn``; ``False`` (and no import) when unset."""
    if not settings.sentry_dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.sentry_environment or settings.env,
        release=settings.sentry_release or f"pantheon@{_version()}",
        traces_sample_rate=settings.sentry_traces_sample_rate or None,  # 0: no tracing at all
        max_request_body_size="never",
        include_local_variables=False,
        before_send=_before_send(service),
        before_breadcrumb=_before_breadcrumb,
    )
    sentry_sdk.set_tag("service", service)
    return True


def close_sentry() -> None:
    """Send what is queued and stop reporting (a test, or a process that re-configures)."""
    import sentry_sdk

    client = sentry_sdk.get_client()
    client.flush(timeout=5)
    client.close()
    sentry_sdk.get_global_scope().set_client(None)  # a client that records nothing


def _before_send(service: str) -> Callable[[Any, Any], Any]:
    """Tags with the correlation of the failing work (before_send runs where the error was
    captured, so it is still current), then the scrubbing."""

    def before_send(event: dict[str, Any], _hint: Any) -> dict[str, Any]:
        tags = event.setdefault("tags", {})
        tags.setdefault("service", service)
        for name, value in correlation.current().items().items():
            tags.setdefault(name, value)
        return scrub_event(event)

    return before_send


def _before_breadcrumb(crumb: dict[str, Any], _hint: Any) -> dict[str, Any]:
    return scrub_value(crumb)  # type: ignore[no-any-return]


def scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` without credentials, bodies or query strings (changed in place, returned)."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("cookies", "data", "query_string"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: FILTERED if k.lower() in SENSITIVE_HEADERS else v
                                  for k, v in headers.items()}
        if isinstance(request.get("url"), str):
            request["url"] = _without_query(request["url"])
    for crumb in (event.get("breadcrumbs") or {}).get("values", []) or []:
        data = crumb.get("data") if isinstance(crumb, dict) else None
        if isinstance(data, dict):
            data.pop("http.query", None)
    scrubbed: dict[str, Any] = scrub_value(event)
    return scrubbed


def scrub_value(value: Any) -> Any:
    """Every string inside ``value`` (dicts, lists) with secrets and query strings masked."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: FILTERED if isinstance(key, str) and key.lower() in SENSITIVE_HEADERS
                else scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(item) for item in value]
    return value


def scrub_text(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _version() -> str:
    try:
        return metadata.version("pantheon")
    except metadata.PackageNotFoundError:
        return "0.0.0"
