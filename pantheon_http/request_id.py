"""The request id: one per HTTP request, echoed as ``X-Request-ID`` and in every log record.

A caller (or a proxy) may send its own id so a request can be traced across systems;
it is reused when it looks like an id, and replaced otherwise, so nothing a client
sends can forge or break a log line.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

HEADER = "X-Request-ID"
NO_REQUEST = "-"

_SANE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_current: ContextVar[str] = ContextVar("pantheon_request_id", default=NO_REQUEST)


def accept_request_id(incoming: str | None) -> str:
    """The caller's id when it is 1-128 characters of ``[A-Za-z0-9._:-]``, else a new one."""
    if incoming and _SANE.match(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request being handled, or ``-`` outside a request."""
    return _current.get()


def bind_request_id(request_id: str) -> Token[str]:
    """Make ``request_id`` current; returns a token for :func:`unbind_request_id`."""
    return _current.set(request_id)


def unbind_request_id(token: Token[str]) -> None:
    _current.reset(token)
