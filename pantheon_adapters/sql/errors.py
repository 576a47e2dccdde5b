"""Recognising vendor errors, so repositories can map them to core errors once."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

_UNIQUE_SQLSTATE = "23505"


def is_unique_violation(exc: IntegrityError, *columns: str) -> bool:
    """Whether ``exc`` is a unique-key clash on (at least) all of ``columns``.

    PostgreSQL reports SQLSTATE 23505 with ``Key (col, …)=(…)`` in its detail (asyncpg keeps
    the detail on the driver's own exception, SQLAlchemy's ``orig`` wraps it as its cause);
    SQLite reports ``UNIQUE constraint failed: table.col, …``. Both name the columns.
    """
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    message = " ".join(str(part) for part in (
        orig, getattr(orig, "detail", None), getattr(cause, "detail", None)) if part)
    unique = (getattr(orig, "sqlstate", None) == _UNIQUE_SQLSTATE
              or "UNIQUE constraint failed" in message)
    return unique and all(column in message for column in columns)
