"""Correlation ids: what the code running right now works for (NFR-OBS-002).

One context per request, turn or job, carried by a ``ContextVar``, so it follows the work
wherever asyncio takes it: a task (a turn's background task, a task group's children)
starts with a copy of the context it was spawned from, so a turn started by a request
keeps that request's id, and binds its own turn id on top.

Log records, error reports and metrics read it; nothing here depends on how they do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True, slots=True)
class Correlation:
    """The ids of the request, user, turn and job being served; ``None`` when not known."""

    request_id: str | None = None
    user_id: str | None = None
    turn_id: str | None = None
    job: str | None = None
    message_id: str | None = None

    def items(self) -> dict[str, str]:
        """The known ids, by field name (``{"request_id": "…", "turn_id": "…"}``)."""
        known = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in known.items() if value is not None}


_NONE = Correlation()  # frozen: one shared "nothing known" is safe
_current: ContextVar[Correlation] = ContextVar("pantheon_correlation", default=_NONE)


def current() -> Correlation:
    """The correlation of the running code (every field ``None`` outside any work)."""
    return _current.get()


def bind(**ids: str | None) -> Token[Correlation]:
    """Add ``ids`` to the current correlation (others are kept); returns a token for
    :func:`reset`. Unknown names raise ``TypeError``."""
    return _current.set(replace(_current.get(), **ids))


def reset(token: Token[Correlation]) -> None:
    """Restore the correlation as it was before the :func:`bind` that gave ``token``."""
    _current.reset(token)


@contextmanager
def bound(**ids: str | None) -> Iterator[Correlation]:
    """``with bound(turn_id=…):`` the ids hold for the block (and tasks spawned in it)."""
    token = bind(**ids)
    try:
        yield _current.get()
    finally:
        reset(token)
