"""Argument and option types shared by several command groups, and reading their values."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from pantheon_cli.output import Output

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON on stdout: the same data the table shows."),
]
RoomRef = Annotated[
    str, typer.Argument(metavar="ROOM", help="Room id, or the room's name when it is unique."),
]
AgentRef = Annotated[str, typer.Argument(metavar="AGENT", help="Agent id or name.")]
Message = Annotated[str, typer.Argument(
    metavar="MESSAGE", help="What to send; '-' reads it from standard input.")]
ChatJsonFlag = Annotated[bool, typer.Option(
    "--json", help="Print the turn's raw events as NDJSON (one JSON object a line) instead "
                   "of panels.")]
Limit = Annotated[int, typer.Option("--limit", min=1, max=100,
                                    help="How many turns (newest) to show.")]
Before = Annotated[str | None, typer.Option(
    "--before", metavar="TIMESTAMP", help="Show turns older than this (the hint under a page).")]


def message_text(out: Output, message: str) -> str:
    """MESSAGE itself, or standard input when it is ``-``."""
    if message != "-":
        return message
    try:
        return sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        out.usage_error("unreadable_message", f"Cannot read the message from stdin: {exc}")


def before_time(out: Output, value: str | None) -> datetime | None:
    """``--before`` as a timestamp (ISO 8601, as the page hint prints it)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        out.usage_error("invalid_before", f"--before wants an ISO 8601 timestamp, not {value!r}.")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
