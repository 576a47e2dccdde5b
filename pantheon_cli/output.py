"""Where a command's result goes: a Rich renderable on stdout, or JSON with ``--json``.

Errors follow one shape. Without ``--json``: one red line ``error[code]: message`` on
stderr, plus a dim line of details when there are any. With ``--json``: the API's error
document ``{"error": {"code", "message", "details"}}`` on stdout, so whoever asked for
JSON always gets one JSON document to parse; the exit code says it failed. A command
that streams NDJSON (``json_lines``) prints its error document on one line too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.text import Text

from pantheon_core.errors import PantheonError

D = TypeVar("D")

EXIT_ERROR = 1
EXIT_USAGE = 2

# Details that only repeat what the message already says.
_REDUNDANT_DETAILS = frozenset({"kind", "ref"})


class Output:
    """One command's output channel, in table or JSON mode."""

    def __init__(self, *, as_json: bool = False, json_lines: bool = False) -> None:
        self.as_json = as_json
        self.json_lines = json_lines
        self.console = Console(highlight=False)
        self.stderr = Console(stderr=True, highlight=False)

    def emit(self, data: D, render: Callable[[D], RenderableType], *,
             soft_wrap: bool = False) -> None:
        """Print ``data`` as JSON, or what ``render`` makes of the very same data.

        ``soft_wrap`` leaves long lines whole (links, secrets) for the terminal to wrap,
        so copying them never picks up a line break.
        """
        if self.as_json:
            print_json(data)
        else:
            self.console.print(render(data), soft_wrap=soft_wrap)

    def notice(self, message: str, *, style: str = "yellow") -> None:
        """A remark for the person at the terminal; on stderr in JSON mode, to keep stdout pure."""
        target = self.stderr if self.as_json else self.console
        target.print(Text(message, style=style), soft_wrap=True)

    @contextmanager
    def status(self, message: str) -> Iterator[None]:
        """A spinner on stderr while something slow runs (silent when not a terminal)."""
        with self.stderr.status(message):
            yield

    def fail(self, error: PantheonError, *, exit_code: int = EXIT_ERROR) -> NoReturn:
        """Report ``error`` in this output's mode and end the command with ``exit_code``."""
        if self.as_json:
            print_json({"error": error.to_dict()}, compact=self.json_lines)
        else:
            self.stderr.print(Text(f"error[{error.code}]: {error.message}", style="bold red"),
                              soft_wrap=True)
            details = detail_line(error.details, already_said=error.message)
            if details:
                self.stderr.print(Text(f"  {details}", style="dim"), soft_wrap=True)
        raise typer.Exit(exit_code)

    def usage_error(self, code: str, message: str) -> NoReturn:
        """A mistake in how the command was called: same shape as other errors, exit code 2."""
        self.fail(PantheonError(message, code=code), exit_code=EXIT_USAGE)


def print_json(data: Any, *, compact: bool = False) -> None:
    """``data`` as indented JSON, or with ``compact`` as one line (an NDJSON record)."""
    typer.echo(json.dumps(data, indent=None if compact else 2, ensure_ascii=False))


def detail_line(details: Mapping[str, Any], *, already_said: str = "") -> str:
    """``retry_after_s: 30 · ids: a, b`` from an error's details, minus what the message says."""
    parts = []
    for key, value in details.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        if key in _REDUNDANT_DETAILS or value is None or shown in already_said:
            continue
        parts.append(f"{key}: {shown}")
    return " · ".join(parts)
