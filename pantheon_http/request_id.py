"""The request id: one per HTTP request, echoed as ``X-Request-ID`` and in every log record.

It lives in the process's correlation context (``pantheon_core.correlation``), beside the
signed-in user's id and, in a turn started by the request, the turn's id.

A caller (or a proxy) may send its own id so a request can be traced across systems;
it is reused when it looks like an id, and replaced otherwise, so nothing a client
sends can forge or break a log line.
"""

from __future__ import annotations

import re
import uuid
from contextvars import Token

from pantheon_core import correlation
from pantheon_core.correlation import Correlation

HEADER = "X-Request-ID"
NO_REQUEST = "-"

_SANE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def accept_request_id(incoming: str | None) -> str:
    """The caller's id when it is 1-128 characters of ``[A-Za-z0-9._:-]``, else a new one."""
    if incoming and _SANE.match(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request being handled, or ``-`` outside a request."""
    return correlation.current().request_id or NO_REQUEST


def bind_request_id(request_id: str) -> Token[Correlation]:
    """Start a request's correlation (its id; no user or turn yet); returns a token for
    :func:`unbind_request_id`."""
    return correlation.bind(request_id=request_id, user_id=None, turn_id=None)


def unbind_request_id(token: Token[Correlation]) -> None:
    correlation.reset(token)
