"""Turns: the snapshot (``turns show``), the one-line outcome, and conversation timelines.

A turn is the user's message and the steps it caused. :class:`TurnDetail` is that pair
for one turn (``turns show``), and a timeline is a page of them (``rooms timeline``,
``direct history``): the user's message, then every step as its own message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.cells import NONE, iso, label, when
from pantheon_cli.views.steps import (
    ErrorData,
    StepData,
    step_from_domain,
    step_from_timeline,
    steps_panels,
)
from pantheon_core.domain.turns import Turn
from pantheon_core.usecases.conversation import TimelinePage, TurnView

ENDED_OK = frozenset({"completed", "partial"})
TURN_STYLE = {"running": "blue", "completed": "green", "partial": "yellow", "failed": "red",
              "cancelled": "yellow"}


class TurnData(TypedDict):
    id: str
    mode: str
    status: str
    message: str
    room_id: str | None
    session_id: str | None
    direct_session_id: str | None
    agents: list[str]  # the roster snapshot's @handles
    created_at: str | None
    finished_at: str | None
    credits: str
    last_seq: int
    error: ErrorData | None


class TurnDetail(TypedDict):
    turn: TurnData
    steps: list[StepData]


class TimelineData(TypedDict):
    entries: list[TurnDetail]  # oldest first
    next_before: str | None  # pass as --before for the page of older turns


def turn_data(turn: Turn, *, last_seq: int | None = None, credits: str | None = None) -> TurnData:
    error = (None if turn.error_code is None
             else ErrorData(code=turn.error_code, message=turn.error_message or ""))
    return TurnData(
        id=turn.id, mode=turn.mode.value, status=turn.status.value, message=turn.message,
        room_id=turn.room_id, session_id=turn.session_id,
        direct_session_id=turn.direct_session_id,
        agents=[f"@{agent.name}" for agent in turn.roster],
        created_at=iso(turn.created_at), finished_at=iso(turn.finished_at),
        credits=credits if credits is not None else str(turn.credits),
        last_seq=turn.last_seq if last_seq is None else last_seq, error=error,
    )


def detail_data(view: TurnView) -> TurnDetail:
    """The durable snapshot: the turn, and its steps with the content streamed so far."""
    timeline = view.timeline.to_dict()
    steps = [step_from_timeline(raw) for raw in timeline["steps"]]
    credits = str(view.turn.credits) if view.turn.is_finished else total_credits(steps)
    return TurnDetail(turn=turn_data(view.turn, last_seq=view.timeline.last_seq,
                                     credits=credits), steps=steps)


def timeline_data(page: TimelinePage) -> TimelineData:
    entries = [TurnDetail(turn=turn_data(entry.turn),
                          steps=[step_from_domain(step, mode=entry.turn.mode.value)
                                 for step in entry.steps])
               for entry in page.entries]
    return TimelineData(entries=entries, next_before=iso(page.next_before))


def total_credits(steps: Sequence[StepData]) -> str:
    total = Decimal(0)
    for step in steps:
        try:
            total += Decimal(step["credits"])
        except InvalidOperation:
            continue
    return str(total)


# --- rendering -----------------------------------------------------------------------------


def started_line(turn_id: str, started: Mapping[str, Any]) -> Text:
    """``roundtable turn 1f2e…: @Ada, @Bob`` when a turn starts."""
    mode = str(started.get("mode", ""))
    roster = {a.get("agent_id"): a.get("name") for a in started.get("roster") or ()}
    chosen = [f"@{roster[i]}" for i in started.get("selected") or () if i in roster]
    who = ("the manager picks from " + (", ".join(f"@{n}" for n in roster.values()) or NONE)
           if mode == "orchestrator" else ", ".join(chosen) or NONE)
    return Text.assemble((f"{mode} turn ", "bold"), (turn_id, "dim"), f": {who}")


def outcome_line(status: str, *, credits: str, ok: int, failed: int,
                 error: ErrorData | None = None) -> Text:
    """``✓ completed · 2 steps ok, 0 failed · 0.014037 credits``, plus why it failed."""
    mark = "✓" if status in ENDED_OK else ("…" if status == "running" else "✗")
    line = Text(f"{mark} {status}", style=f"bold {TURN_STYLE.get(status, '')}")
    line.append(f" · {ok} step{'s' if ok != 1 else ''} ok, {failed} failed · {credits} credits")
    if error:
        line.append(f" · {error['code']}: {error['message']}", style=TURN_STYLE.get(status, ""))
    return line


def detail_outcome(detail: TurnDetail) -> Text:
    turn, steps = detail["turn"], detail["steps"]
    return outcome_line(turn["status"], credits=turn["credits"],
                        ok=sum(s["status"] == "ok" for s in steps),
                        failed=sum(s["status"] == "failed" for s in steps), error=turn["error"])


def turn_header(turn: TurnData) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(label("Turn"), Text(turn["id"], style="dim"))
    grid.add_row(label("Status"), Text(turn["status"],
                                       style=f"bold {TURN_STYLE.get(turn['status'], '')}"))
    grid.add_row(label("Mode"), turn["mode"])
    if turn["direct_session_id"]:
        grid.add_row(label("Direct chat"), turn["direct_session_id"])
    else:
        grid.add_row(label("Room"), turn["room_id"] or NONE)
        grid.add_row(label("Session"), turn["session_id"] or NONE)
    grid.add_row(label("Agents"), ", ".join(turn["agents"]) or NONE)
    grid.add_row(label("Message"), turn["message"])
    grid.add_row(label("Started"), when(turn["created_at"]))
    grid.add_row(label("Finished"), when(turn["finished_at"]))
    grid.add_row(label("Credits"), turn["credits"])
    grid.add_row(label("Events"), f"{turn['last_seq']} (resume with --after N)")
    if turn["error"]:
        grid.add_row(label("Error"), Text(f"{turn['error']['code']}: {turn['error']['message']}",
                                          style="red"))
    return Panel(grid, title="Turn", title_align="left", expand=False)


def detail_view(detail: TurnDetail) -> RenderableType:
    return Group(turn_header(detail["turn"]), *steps_panels(detail["steps"]),
                 detail_outcome(detail))


def user_message(turn: TurnData) -> Panel:
    meta = f"{turn['mode']} · {when(turn['created_at'])}"
    return Panel(Text(turn["message"]), title=Text.assemble(("You", "bold"), f" · {meta}"),
                 title_align="left", subtitle=Text(f"turn {turn['id']}", style="dim"),
                 subtitle_align="left", border_style="white")


def timeline_view(empty_hint: str) -> Callable[[TimelineData], RenderableType]:
    """A renderer for a conversation page; ``empty_hint`` says how to start one."""

    def render(page: TimelineData) -> RenderableType:
        if not page["entries"]:
            return Text(empty_hint, style="dim")
        parts: list[RenderableType] = []
        if page["next_before"]:
            parts.append(Text(f"Older turns: add --before {page['next_before']}", style="dim"))
        for entry in page["entries"]:
            parts += [user_message(entry["turn"]), *steps_panels(entry["steps"]),
                      detail_outcome(entry), Text()]
        return Group(*parts)

    return render


def cancel_view(turn: TurnData) -> RenderableType:
    return Text.assemble(("Cancelling ", "yellow"), (turn["id"], "bold"),
                         ": it stops at its next checkpoint; finished steps keep their results.")
