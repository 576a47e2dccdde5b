"""Recognising vendor errors, so repositories can map them to core errors once."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

_UNIQUE_SQLSTATE = "23505"


def is_unique_violation(exc: IntegrityError, *columns: str) -> bool:
    """Whether ``exc`` is a unique-key clash on (at least) all of ``columns``.

    PostgreSQL (psycopg) reports SQLSTATE 23505 with ``Key (col, …)=(…)`` in its detail;
    SQLite reports ``UNIQUE constraint failed: table.col, …``. Both name the columns.
    """
    orig = exc.orig
    message = str(orig)
    unique = (getattr(orig, "sqlstate", None) == _UNIQUE_SQLSTATE
              or "UNIQUE constraint failed" in message)
    return unique and all(column in message for column in columns)
