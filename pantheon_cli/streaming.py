"""Following a turn as it runs: NDJSON for scripts, live Rich panels for people.

The engine runs the turn in this very process (``container.tasks``), so a chat command
follows the turn's events until its terminal event and only then lets the runner close
the container. Two ways to show the events:

- ``--json``: every event as one JSON line (``TurnEvent.to_dict()``), flushed as it
  comes, and nothing else on stdout;
- otherwise a line when the turn starts, a line per tool call as it completes
  (``  ↳ web_search("…") … 5 results``, ``  ✗ web_search denied: …``), each step's panel
  as it completes and a one-line outcome at the end; on a terminal the running step
  streams live below them, with a spinner (and its tool call in flight).

Ctrl-C during a chat asks core to cancel the turn and keeps following it to its end
(exit code 130); a second Ctrl-C stops waiting at once.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

import anyio
import typer
from rich.console import Console, Group
from rich.live import Live

from pantheon_cli.output import EXIT_ERROR, Output
from pantheon_cli.runner import Session
from pantheon_cli.views.steps import StepData, error_data, step_from_timeline, step_panel
from pantheon_cli.views.tools import tool_call_data, tool_line
from pantheon_cli.views.turns import ENDED_OK, outcome_line, started_line
from pantheon_core.domain.events import EventType, TurnEvent, fold
from pantheon_core.domain.turns import Turn
from pantheon_core.errors import PantheonError

EXIT_INTERRUPTED = 130  # the shell's convention for "stopped by SIGINT"
REDRAW_S = 1 / 12
Signals = AsyncIterator[signal.Signals]


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """How following a turn ended: its final status (None if we stopped before it
    ended) and whether the person pressed Ctrl-C."""

    status: str | None
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return 0 if self.status in ENDED_OK else EXIT_ERROR


async def chat(session: Session, out: Output, send: Callable[[], Awaitable[Turn]]) -> TurnEnd:
    """Send (``send`` starts the turn in the background), then follow the turn to its end;
    Ctrl-C cancels it."""
    with interrupt_signals() as signals:
        turn = await send()
        return await follow(session, out, turn.id, signals=signals, cancel_on_interrupt=True)


async def follow(session: Session, out: Output, turn_id: str, *, after: int = 0,
                 signals: Signals | None = None, cancel_on_interrupt: bool = False) -> TurnEnd:
    """Show the turn's events after ``after`` until its terminal event."""
    events = await session.use_cases.stream_turn_events(session.actor, turn_id, after=after)
    sink = JsonLinesSink() if out.as_json else PanelSink(out.console)
    interrupts = Interrupts(session, out, turn_id, cancel=cancel_on_interrupt)
    final: str | None = None
    try:
        with sink:
            async with anyio.create_task_group() as group:
                if signals is not None:
                    group.start_soon(interrupts.watch, signals, group.cancel_scope)
                if sink.live:
                    group.start_soon(redraw, sink)
                async for event in events:
                    sink.add(event)
                    if event.is_terminal:
                        final = str(event.data.get("status", "failed"))
                group.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise sole(group) from None
    finally:
        await close(events)
    return TurnEnd(final, interrupted=interrupts.count > 0)


@contextmanager
def interrupt_signals() -> Iterator[Signals | None]:
    """Ctrl-C as a stream of signals (None where signals cannot be caught: not the main
    thread, or no signal support)."""
    with ExitStack() as stack:
        try:
            signals: Signals | None = stack.enter_context(
                anyio.open_signal_receiver(signal.SIGINT))
        except (RuntimeError, ValueError):  # not the main thread: no signal handling here
            signals = None
        yield signals


class Interrupts:
    """What Ctrl-C does while following: cancel the turn first (chat), stop waiting next."""

    def __init__(self, session: Session, out: Output, turn_id: str, *, cancel: bool) -> None:
        self.session, self.out, self.turn_id, self.cancel = session, out, turn_id, cancel
        self.count = 0

    async def watch(self, signals: Signals, stop: anyio.CancelScope) -> None:
        async for _ in signals:
            self.count += 1
            if not self.cancel or self.count > 1:
                stop.cancel()
                return
            self.out.notice("Cancelling the turn… (Ctrl-C again to stop waiting)")
            try:
                await self.session.use_cases.cancel_turn(self.session.actor, self.turn_id)
            except PantheonError as error:  # e.g. it ended in the meantime: keep following
                self.out.notice(f"Could not cancel: {error.message}", style="dim")


async def redraw(sink: Sink) -> None:
    """Keep the live region (and its spinner) moving even while no event arrives."""
    while True:
        sink.refresh()
        await anyio.sleep(REDRAW_S)


class Sink(Protocol):
    live: bool

    def __enter__(self) -> Sink: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...

    def add(self, event: TurnEvent) -> None: ...

    def refresh(self) -> None: ...


class JsonLinesSink:
    """NDJSON: one event per line, flushed as it comes. When the reader goes away
    (``| head``) the rest is dropped, but the turn is still followed to its end."""

    live = False

    def __init__(self) -> None:
        self.reader_gone = False

    def __enter__(self) -> JsonLinesSink:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def add(self, event: TurnEvent) -> None:
        if self.reader_gone:
            return
        try:
            typer.echo(json.dumps(event.to_dict(), ensure_ascii=False))  # click.echo flushes
        except BrokenPipeError:
            self.reader_gone = True
            discard_stdout()

    def refresh(self) -> None:
        return None


class PanelSink:
    """Rich panels: finished steps are printed once, in order; on a terminal the running
    step is drawn live (below them) from the fold of the events so far."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.events: list[TurnEvent] = []
        self.live = console.is_terminal and not console.is_dumb_terminal
        self._live = Live(console=console, auto_refresh=False, transient=True) \
            if self.live else None

    def __enter__(self) -> PanelSink:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._live is not None:
            self._live.update(Group(), refresh=True)
            self._live.stop()

    def add(self, event: TurnEvent) -> None:
        self.events.append(event)
        if event.type is EventType.TURN_STARTED:
            self.console.print(started_line(event.turn_id, event.data))
        elif event.type is EventType.TOOL_COMPLETED:
            self.console.print(tool_line(tool_call_data(event.data)))
        elif event.type is EventType.STEP_COMPLETED:
            done = [s for s in self.steps() if s["step_id"] == event.step_id]
            for step in done:  # its tool calls are already printed, as they happened
                self.console.print(step_panel(step, tools=False))
        elif event.is_terminal:
            self._outcome(event)
        if event.type is not EventType.STEP_DELTA:
            self.refresh()

    def steps(self) -> list[StepData]:
        if not self.events:
            return []
        timeline = fold(self.events[0].turn_id, self.events).to_dict()
        return [step_from_timeline(raw) for raw in timeline["steps"]]

    def refresh(self) -> None:
        if self._live is None:
            return
        lines = max(3, self.console.height - 8)
        running = [step_panel(in_flight(s), tail_lines=lines) for s in self.steps()
                   if s["status"] == "running"]
        self._live.update(Group(*running), refresh=True)

    def _outcome(self, event: TurnEvent) -> None:
        steps = self.steps()
        self.console.print(outcome_line(
            str(event.data.get("status", "failed")), credits=str(event.data.get("credits", "0")),
            ok=sum(s["status"] == "ok" for s in steps),
            failed=sum(s["status"] == "failed" for s in steps),
            error=error_data(event.data.get("error"))))


def in_flight(step: StepData) -> StepData:
    """The step with only its running tool calls (the finished ones are printed above)."""
    shown = step.copy()
    shown["tool_calls"] = [c for c in step.get("tool_calls") or () if c["status"] == "running"]
    return shown


def discard_stdout() -> None:
    """Point stdout at /dev/null, so nothing (not even the exit-time flush) writes to a
    pipe whose reader has gone."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return


def sole(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one error inside a task group's error group (so a core error is reported as
    usual), else the group itself."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        current = pending.pop()
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        else:
            leaves.append(current)
    return leaves[0] if len(leaves) == 1 else group


async def close(events: AsyncIterator[TurnEvent]) -> None:
    """Close the event stream (an async generator holding a subscription) right away."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
