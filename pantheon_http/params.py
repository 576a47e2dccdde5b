"""URL parameters, typed once: what an id (or an agent's name) in a URL may look like,
and the paging parameters of timelines.

Control characters (``%00`` and friends) are refused as input errors before any
database sees them. An instant without a time zone is read as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"

RoomIdPath = Annotated[str, Path(description="The room's id.", max_length=100,
                                 pattern=_PRINTABLE)]
AgentRefPath = Annotated[str, Path(description="The agent's id, or its name (any case).",
                                   max_length=100, pattern=_PRINTABLE)]
TokenIdPath = Annotated[str, Path(description="The API token's id.", max_length=100,
                                  pattern=_PRINTABLE)]
TurnIdPath = Annotated[str, Path(description="The turn's id.", max_length=100,
                                 pattern=_PRINTABLE)]
DirectSessionIdPath = Annotated[str, Path(description="The direct session's id.",
                                          max_length=100, pattern=_PRINTABLE)]


def as_utc(value: datetime | None) -> datetime | None:
    """An instant in UTC (naive: read as UTC). One whose UTC time is outside the calendar
    (``9999-12-31T23:00:00-05:00``) is a validation error, as a malformed one is."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the instant is out of range once in UTC") from exc


SessionQuery = Annotated[str | None, Query(description="The room session (default: the latest).",
                                           max_length=100, pattern=_PRINTABLE)]
LimitQuery = Annotated[int, Query(ge=1, le=100, description="Turns per page.")]
BeforeQuery = Annotated[datetime | None, AfterValidator(as_utc),
                        Query(description="Only turns created before this instant "
                                          "(a page's `next_before`).")]
