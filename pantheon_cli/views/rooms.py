"""Rooms: listings, the room panel (current vs pending mode) and confirmations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.agents import AgentView, agents_data, agents_table
from pantheon_cli.views.cells import NONE, iso, label, when
from pantheon_core.domain.rooms import Room
from pantheon_core.usecases.rooms import RoomDetail

APPLIES_NEXT_SEND = "applies on next send"


class RoomView(TypedDict):
    id: str
    name: str
    description: str
    current_mode: str
    pending_mode: str | None
    next_send_mode: str
    created_at: str | None
    updated_at: str | None
    deleted_at: str | None
    restorable_until: str | None


class RoomDetailView(TypedDict):
    room: RoomView
    agents: list[AgentView]


def room_data(room: Room) -> RoomView:
    next_mode, _ = room.modes.resolve_at_send()
    return RoomView(
        id=room.id, name=room.name, description=room.description,
        current_mode=room.current_mode.value,
        pending_mode=None if room.pending_mode is None else room.pending_mode.value,
        next_send_mode=next_mode.value, created_at=iso(room.created_at),
        updated_at=iso(room.updated_at), deleted_at=iso(room.deleted_at),
        restorable_until=iso(room.restorable_until()),
    )


def rooms_data(rooms: Sequence[Room]) -> list[RoomView]:
    return [room_data(room) for room in rooms]


def detail_data(detail: RoomDetail) -> RoomDetailView:
    return RoomDetailView(room=room_data(detail.room), agents=agents_data(detail.agents))


def mode_cell(room: RoomView) -> Text:
    """``roundtable``, and below it ``→ manual (next send)`` while a switch is pending."""
    text = Text(room["current_mode"])
    if room["pending_mode"]:
        text.append(f"\n→ {room['pending_mode']}", style="yellow")
        text.append(" (next send)", style="dim")
    return text


def rooms_table(rooms: list[RoomView]) -> RenderableType:
    if not rooms:
        return Text("No rooms yet. Create one: pantheon rooms create NAME", style="dim")
    table = Table(title="Rooms", title_justify="left")
    table.add_column("Name", style="bold", overflow="fold")
    table.add_column("Mode")
    table.add_column("ID", style="dim", no_wrap=True)
    for room in rooms:
        table.add_row(room["name"], mode_cell(room), room["id"])
    return table


def trash_table(rooms: list[RoomView]) -> RenderableType:
    if not rooms:
        return Text("No deleted rooms to restore.", style="dim")
    table = Table(title="Deleted rooms", title_justify="left")
    table.add_column("Name", style="bold", overflow="fold")
    table.add_column("Restorable until")
    table.add_column("ID", style="dim", no_wrap=True)
    for room in rooms:
        table.add_row(room["name"], when(room["restorable_until"]), room["id"])
    return table


def room_panel(room: RoomView, *, title: str = "Room") -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(label("Name"), Text(room["name"], style="bold"))
    grid.add_row(label("ID"), Text(room["id"], style="dim"))
    grid.add_row(label("Description"), room["description"] or NONE)
    grid.add_row(label("Mode"), Text(room["current_mode"], style="bold green"))
    grid.add_row(label("Pending mode"), pending_cell(room))
    if room["deleted_at"]:
        grid.add_row(label("Deleted"),
                     f"{when(room['deleted_at'])} (restorable until "
                     f"{when(room['restorable_until'])})")
    return Panel(grid, title=title, title_align="left", expand=False)


def pending_cell(room: RoomView) -> Text:
    if not room["pending_mode"]:
        return Text("none", style="dim")
    return Text.assemble((room["pending_mode"], "bold yellow"), f" — {APPLIES_NEXT_SEND}")


def detail_view(detail: RoomDetailView) -> RenderableType:
    return Group(room_panel(detail["room"]), agents_table(detail["agents"]))


def created_view(room: RoomView) -> RenderableType:
    return room_panel(room, title="Created room")


def updated_view(room: RoomView) -> RenderableType:
    return room_panel(room, title="Updated room")


def mode_message(room: RoomView) -> RenderableType:
    """``pending: manual — applies on next send (current: roundtable)``."""
    return Text.assemble(
        "pending: ", (room["pending_mode"] or NONE, "bold yellow"), f" — {APPLIES_NEXT_SEND} ",
        f"(current: {room['current_mode']})",
    )


def deleted_message(room: RoomView) -> RenderableType:
    return Text.assemble(
        ("Deleted ", "green"), (room["name"], "bold"),
        f". Restorable until {when(room['restorable_until'])} with:\n"
        f"  pantheon rooms restore {room['id']}",
    )


def restored_message(room: RoomView) -> RenderableType:
    return Text.assemble(("Restored ", "green"), (room["name"], "bold"), f" ({room['id']}).")
