"""Logging for the HTTP app: the request id on every record, and one access line per request.

The access line is logfmt (``method=GET path=/api/v1/rooms status=200 duration_ms=1.8
request_id=…``) and carries the same values as record attributes for structured
handlers. Paths are logged without their query string: a sign-in link's token travels
in one and must never reach a log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pantheon_adapters.bootstrap import Settings
from pantheon_http.request_id import current_request_id

ACCESS_LOGGER = "pantheon.http.access"
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_access = logging.getLogger(ACCESS_LOGGER)


class _RequestIdRecordFactory:
    """Wraps the process's log record factory to stamp ``record.request_id``."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.wrapped(*args, **kwargs)
        record.request_id = current_request_id()
        return record


def install_request_id_logging() -> None:
    """Give every log record (ours, uvicorn's, libraries') a ``request_id``; idempotent."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RequestIdRecordFactory):
        logging.setLogRecordFactory(_RequestIdRecordFactory(factory))


def configure_logging(settings: Settings) -> None:
    """Install the request id, and a stderr handler when nobody configured logging yet.

    A host that set up logging (the CLI, a test runner, a platform) keeps its own
    handlers; this only makes sure ``pantheon.*`` records are visible by default.
    """
    install_request_id_logging()
    pantheon = logging.getLogger("pantheon")
    pantheon.setLevel(logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO))
    if not logging.getLogger().handlers and not pantheon.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        pantheon.addHandler(handler)


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
