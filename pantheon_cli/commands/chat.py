"""``pantheon chat``: send a message to a room and watch every agent answer, live."""

from __future__ import annotations

from typing import Annotated

import typer

from pantheon_cli import streaming
from pantheon_cli.options import ChatJsonFlag, Message, RoomRef, message_text
from pantheon_cli.runner import Invocation, Session
from pantheon_core.domain.rooms import Room

SessionOption = Annotated[str | None, typer.Option(
    "--session", metavar="ID", help="Send in this session of the room (default: its latest; "
                                    "see pantheon rooms sessions).")]


def chat(ctx: typer.Context, room: RoomRef, message: Message, session: SessionOption = None,
         as_json: ChatJsonFlag = False) -> None:
    """Send MESSAGE to ROOM and stream the turn: one panel per step, then the outcome.

    The room's mode decides who answers (manual: only the @tagged agents). Exit code 0
    when the turn completed (or partly), 1 when it failed or was cancelled, 130 after
    Ctrl-C, which cancels the turn.
    """
    run = Invocation(ctx, as_json=as_json, json_lines=True)
    text = message_text(run.out, message)

    async def send(s: Session, r: Room) -> streaming.TurnEnd:
        return await streaming.chat(s, run.out, lambda: s.use_cases.send_to_room(
            s.actor, r.id, text, session_id=session))

    raise typer.Exit(run.in_room(room, send).exit_code)
