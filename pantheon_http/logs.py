"""Logging for the HTTP app: the process's log setup, and one access line per request.

The access line is logfmt (``method=GET path=/api/v1/rooms status=200 duration_ms=1.8
request_id=…``) and carries the same values as record attributes for structured
handlers (they become fields of the JSON line). Paths are logged without their query
string: a sign-in link's token travels in one and must never reach a log.

Every record also carries the request's correlation ids (request, user, and turn inside
a turn): see ``pantheon_adapters.observability.logs`` and docs/observability.md.
"""

from __future__ import annotations

import json
import logging

from pantheon_adapters.bootstrap import Settings, setup_observability
from pantheon_http.request_id import current_request_id

ACCESS_LOGGER = "pantheon.http.access"
SERVICE = "api"

_access = logging.getLogger(ACCESS_LOGGER)


def configure_logging(settings: Settings) -> None:
    """Logs as ``PANTHEON_LOG_FORMAT`` says (JSON lines or text) with correlation ids, and
    Sentry when ``PANTHEON_SENTRY_DSN`` is set. A host that configured the root logger
    itself (a test runner, a platform) keeps its own handlers."""
    setup_observability(settings, service=SERVICE)


def log_access(*, method: str, path: str, status: int, duration_ms: float) -> None:
    """The one access line for a finished request (the request id comes from the record)."""
    _access.info(
        "method=%s path=%s status=%d duration_ms=%.1f request_id=%s",
        method, _logfmt(path), status, duration_ms, current_request_id(),
        extra={"method": method, "path": path, "status": status,
               "duration_ms": round(duration_ms, 1)},
    )


def _logfmt(value: str) -> str:
    """``value`` as one logfmt token: quoted and escaped when it holds spaces, quotes,
    control or non-ASCII characters (a decoded ``%0A`` in a path must not start a new line)."""
    quoted = json.dumps(value)
    return quoted if quoted[1:-1] != value or any(c in value for c in ' ="') else value
