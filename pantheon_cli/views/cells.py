"""Formatting single values for table cells and panels."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

NONE = "—"


def iso(value: datetime | None) -> str | None:
    """The JSON form of a timestamp."""
    return None if value is None else value.isoformat()


def when(value: str | None) -> str:
    """An ISO timestamp as local ``YYYY-MM-DD HH:MM`` for people, or a dash."""
    if not value:
        return NONE
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M")


def excerpt(text: str, limit: int = 40) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def label(text: str) -> Text:
    """A field label in a two-column panel grid."""
    return Text(text, style="bold")
