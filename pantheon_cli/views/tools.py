"""Tool calls inside a step (FR-TOOL-007), one line each::

      ↳ web_search("launch risks") … 5 results for 'launch risks'
      ↳ read_file(report.pdf, page 2) … read 3000 characters of report.pdf (page 2 of 3)
      ✗ web_search denied: You do not have permission to search the web.
      ✗ read_file failed: No readable file 'x' here. …

A call reaches the CLI from a ``tool_started`` event (``status: running``), a
``tool_completed`` event (the call's record, with ``file`` for a file read), or a stored
step (``data.tool_calls``, with the reads in ``data.files_read``); all become one
:class:`ToolCallData`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from rich.text import Text

from pantheon_cli.views.cells import excerpt

ARGUMENT_CHARS = 40
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


class ToolErrorData(TypedDict):
    code: str
    message: str


class ToolCallData(TypedDict):
    call_id: str
    tool: str
    arguments: str  # the call's JSON arguments, as recorded (at most 300 characters)
    status: str  # running, allowed, denied or error
    result: str
    error: ToolErrorData | None
    credits: str
    file: dict[str, Any] | None  # a file read: file_id, chars, page_from, page_to


def tool_call_data(raw: Mapping[str, Any], *,
                   reads: Sequence[Mapping[str, Any]] = ()) -> ToolCallData:
    """One call from an event's data or a stored step's ``tool_calls`` (``reads`` are the
    step's ``files_read``, matched by call id)."""
    call_id = str(raw.get("call_id", ""))
    file = raw.get("file") or next((dict(r) for r in reads if r.get("tool_call_id") == call_id),
                                   None)
    error = raw.get("error")
    return ToolCallData(
        call_id=call_id, tool=str(raw.get("tool", "")), arguments=str(raw.get("arguments", "")),
        status=str(raw.get("status", "running")), result=str(raw.get("result") or ""),
        error=ToolErrorData(code=str(error.get("code", "")), message=str(error.get("message")
                                                                        or ""))
        if isinstance(error, Mapping) else None,
        credits=str(raw.get("credits", "0")), file=dict(file) if file else None)


def tool_calls_data(raw_calls: Any, reads: Any = ()) -> list[ToolCallData]:
    calls = raw_calls if isinstance(raw_calls, list) else []
    files = [r for r in reads if isinstance(r, Mapping)] if isinstance(reads, list) else []
    return [tool_call_data(c, reads=files) for c in calls if isinstance(c, Mapping)]


def call_text(call: ToolCallData) -> str:
    """``web_search("launch risks")`` or ``read_file(f1, page 2)``."""
    try:
        args = json.loads(call["arguments"] or "{}")
    except json.JSONDecodeError:
        args = None
    if not isinstance(args, dict):
        return f"{call['tool']}({excerpt(call['arguments'], ARGUMENT_CHARS)})"
    if isinstance(args.get("query"), str):
        shown = [json.dumps(excerpt(args["query"], ARGUMENT_CHARS), ensure_ascii=False)]
    elif isinstance(args.get("file_id"), str):
        ref = args["file_id"]  # an id is shortened: the result names the file
        shown = [f"{ref[:8]}…" if _UUID.fullmatch(ref) else excerpt(ref, ARGUMENT_CHARS)]
        shown += [f"{key} {args[key]}" for key in ("page", "start") if key in args]
    else:
        shown = [excerpt(", ".join(f"{k}={v}" for k, v in args.items()), ARGUMENT_CHARS)]
    return f"{call['tool']}({', '.join(shown)})"


def tool_line(call: ToolCallData, *, indent: str = "  ") -> Text:
    """The call as one line: what was asked and how it went."""
    error = call["error"]
    if call["status"] in ("denied", "error"):
        verb = "denied" if call["status"] == "denied" else "failed"
        reason = error["message"] if error else "no reason given"
        return Text(f"{indent}✗ {call['tool']} {verb}: {reason}",
                    style="red" if call["status"] == "denied" else "yellow")
    line = Text(f"{indent}↳ ", style="cyan")
    line.append(call_text(call), style="bold" if call["status"] == "allowed" else "")
    if call["status"] == "running":
        line.append(" …", style="dim")
    else:
        line.append(f" … {call['result'] or 'done'}", style="dim")
    return line


def tools_block(calls: Sequence[ToolCallData]) -> Text:
    """The calls, one line each, unindented (inside a step's panel)."""
    return Text("\n").join(tool_line(call, indent="") for call in calls)
