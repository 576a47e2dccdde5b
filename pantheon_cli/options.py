"""Argument and option types shared by several command groups."""

from __future__ import annotations

from typing import Annotated

import typer

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON on stdout: the same data the table shows."),
]
RoomRef = Annotated[
    str, typer.Argument(metavar="ROOM", help="Room id, or the room's name when it is unique."),
]
AgentRef = Annotated[str, typer.Argument(metavar="AGENT", help="Agent id or name.")]
