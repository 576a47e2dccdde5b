"""``pantheon turns``: a turn's snapshot, its raw events (resumable), and cancelling it."""

from __future__ import annotations

from typing import Annotated

import typer

from pantheon_cli import streaming
from pantheon_cli.options import JsonFlag
from pantheon_cli.runner import Invocation, Session
from pantheon_cli.views import turns as views

app = typer.Typer(help="Turns: one message and every step it caused.", no_args_is_help=True)

TurnRef = Annotated[str, typer.Argument(metavar="ID", help="The turn's id.")]


@app.command("show")
def show(ctx: typer.Context, turn: TurnRef, as_json: JsonFlag = False) -> None:
    """Show a turn as stored now: its status, and each step with its content so far."""
    run = Invocation(ctx, as_json=as_json)
    view = run.call(lambda s: s.use_cases.get_turn(s.actor, turn))
    run.out.emit(views.detail_data(view), views.detail_view)


@app.command("events")
def events(
    ctx: typer.Context, turn: TurnRef,
    after: Annotated[int, typer.Option(
        "--after", min=0, metavar="N", help="Only events with seq > N (resume after N).")] = 0,
) -> None:
    """Print the turn's events as NDJSON; a running turn is followed until it ends."""
    run = Invocation(ctx, as_json=True, json_lines=True)

    async def follow(s: Session) -> streaming.TurnEnd:
        with streaming.interrupt_signals() as signals:
            return await streaming.follow(s, run.out, turn, after=after, signals=signals)

    end = run.call(follow)
    raise typer.Exit(streaming.EXIT_INTERRUPTED if end.interrupted else 0)


@app.command("cancel")
def cancel(ctx: typer.Context, turn: TurnRef, as_json: JsonFlag = False) -> None:
    """Cancel a running turn; steps already finished keep their results."""
    run = Invocation(ctx, as_json=as_json)
    cancelled = run.call(lambda s: s.use_cases.cancel_turn(s.actor, turn))
    run.out.emit(views.turn_data(cancelled), views.cancel_view)


