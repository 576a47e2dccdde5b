"""Process logging: JSON lines in production, readable text in development (NFR-OBS-002).

Every record gets the correlation of the code that logged it (``pantheon_core.correlation``:
request id, user id, turn id, job name and message id), stamped when the record is made by
a wrapper around the process's record factory, so lines logged by libraries inside a
request or a turn carry the ids too.

``json``: one object per line::

    {"time": "2026-05-01T09:30:00.123Z", "level": "INFO", "logger": "pantheon.http.access",
     "message": "method=GET path=/api/v1/rooms status=200 …", "service": "api",
     "request_id": "…", "user_id": "…", "method": "GET", "status": 200, …}

Ids are present only when known; ``extra=`` fields of a record are added as they are, and an
exception's traceback is in ``exception``. ``text``: ``time level logger [ids] message``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final, TextIO

from pantheon_adapters.settings import Settings
from pantheon_core import correlation
from pantheon_core.correlation import Correlation

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"
NO_REQUEST: Final = "-"
# Loggers uvicorn gives handlers of its own; JSON output routes them through ours instead.
UVICORN_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access")

_OURS: Final = "_pantheon_handler"
_STANDARD: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", "request_id", "correlation", "context",
    "color_message"}  # uvicorn's ANSI-coloured copy of the message


class _CorrelatedRecordFactory:
    """Wraps the process's log record factory to stamp the current correlation."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.wrapped(*args, **kwargs)
        ids = correlation.current()
        record.correlation = ids
        record.request_id = ids.request_id or NO_REQUEST
        return record


def install_correlated_records() -> None:
    """Give every log record (ours, uvicorn's, libraries') the correlation ids; idempotent."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _CorrelatedRecordFactory):
        logging.setLogRecordFactory(_CorrelatedRecordFactory(factory))


def _ids_of(record: logging.LogRecord) -> Correlation:
    ids = getattr(record, "correlation", None)
    return ids if isinstance(ids, Correlation) else correlation.current()


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def __init__(self, *, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            **_ids_of(record).items(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger [request_id turn=… user=…] message`` for people at a terminal."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        ids = _ids_of(record).items()
        head = ids.pop("request_id", NO_REQUEST)
        record.context = " ".join([head, *(f"{k.removesuffix('_id')}={v}"
                                           for k, v in ids.items())])
        return super().format(record)


def formatter_for(settings: Settings, *, service: str) -> logging.Formatter:
    """The formatter ``settings.effective_log_format`` asks for."""
    if settings.effective_log_format == "json":
        return JsonFormatter(service=service)
    return TextFormatter()


def configure_logging(settings: Settings, *, service: str,
                      stream: TextIO | None = None) -> logging.Handler | None:
    """Set up this process's logging: correlated records, the ``pantheon`` loggers' level,
    and one handler on the root logger writing to ``stream`` (default stderr) in the
    configured format. Idempotent: a second call re-formats the handler it installed.

    A host that configured the root logger itself (a test runner, a platform) keeps its
    handlers, and none is added, unless ``stream`` is given. Returns the handler in use.
    """
    install_correlated_records()
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    logging.getLogger("pantheon").setLevel(level)
    formatter = formatter_for(settings, service=service)
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, _OURS, False) and (stream is None or
                                               getattr(handler, "stream", None) is stream):
            handler.setFormatter(formatter)
            return handler
    if root.handlers and stream is None:
        return None
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _OURS, True)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    if isinstance(formatter, JsonFormatter):
        _route_uvicorn_through_root()
    return handler


def _route_uvicorn_through_root() -> None:
    """uvicorn's own lines (startup, errors) in the same JSON as ours, not its text."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def remove_handler(handler: logging.Handler) -> None:
    """Take a handler :func:`configure_logging` installed off the root logger (tests)."""
    logging.getLogger().removeHandler(handler)
