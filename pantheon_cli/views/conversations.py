"""Conversations: a room's sessions and the user's direct (1:1) chats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.agents import ToolsView, tools_cell
from pantheon_cli.views.cells import NONE, excerpt, iso, when
from pantheon_core.domain.sessions import DirectSession, RoomSession


class RoomSessionView(TypedDict):
    id: str
    room_id: str
    title: str
    created_at: str | None
    updated_at: str | None


class DirectAgentView(TypedDict):
    name: str
    handle: str
    model_alias: str
    tools: ToolsView
    role_prompt: str


class DirectSessionView(TypedDict):
    id: str
    title: str
    agent: DirectAgentView
    source_agent_id: str | None  # the room agent it was copied from, if any
    created_at: str | None
    updated_at: str | None
    deleted_at: str | None
    restorable_until: str | None


def room_session_data(session: RoomSession) -> RoomSessionView:
    return RoomSessionView(id=session.id, room_id=session.room_id, title=session.title,
                           created_at=iso(session.created_at), updated_at=iso(session.updated_at))


def room_sessions_data(sessions: Sequence[RoomSession]) -> list[RoomSessionView]:
    return [room_session_data(session) for session in sessions]


def direct_data(session: DirectSession) -> DirectSessionView:
    agent = session.agent
    return DirectSessionView(
        id=session.id, title=session.title,
        agent=DirectAgentView(name=agent.name, handle=f"@{agent.name}",
                              model_alias=agent.model_alias.value,
                              tools=ToolsView(web_search=agent.tools.web_search,
                                              files=agent.tools.files),
                              role_prompt=agent.role_prompt),
        source_agent_id=session.source_agent_id, created_at=iso(session.created_at),
        updated_at=iso(session.updated_at), deleted_at=iso(session.deleted_at),
        restorable_until=iso(session.restorable_until()),
    )


def directs_data(sessions: Sequence[DirectSession]) -> list[DirectSessionView]:
    return [direct_data(session) for session in sessions]


def room_sessions_table(sessions: list[RoomSessionView]) -> RenderableType:
    """Newest first; a send without --session goes to the first one."""
    if not sessions:
        return Text("No sessions yet: the first send starts one, or: "
                    "pantheon rooms new-session ROOM", style="dim")
    table = Table(title="Sessions (newest first; sends without --session go to the first)",
                  title_justify="left")
    table.add_column("Title", style="bold", overflow="fold")
    table.add_column("Started")
    table.add_column("Last active")
    table.add_column("ID", style="dim", no_wrap=True)
    for session in sessions:
        table.add_row(session["title"], when(session["created_at"]), when(session["updated_at"]),
                      session["id"])
    return table


def room_session_created(session: RoomSessionView) -> RenderableType:
    return Group(
        Text.assemble(("Started session ", "green"), (session["title"], "bold"),
                      f" ({session['id']}): fresh memory, same agents."),
        Text("Sends without --session now go to it.", style="dim"),
    )


def directs_table(sessions: list[DirectSessionView]) -> RenderableType:
    if not sessions:
        return Text("No direct chats yet. Start one: pantheon direct new --room ROOM --agent "
                    "AGENT, or --name NAME --model ALIAS", style="dim")
    table = Table(title="Direct chats (most recent first)", title_justify="left")
    table.add_column("Title", style="bold", overflow="fold")
    table.add_column("Agent", style="cyan", no_wrap=True)
    table.add_column("Model", no_wrap=True)
    table.add_column("ID", style="dim", no_wrap=True)
    for session in sessions:
        agent = session["agent"]
        table.add_row(session["title"], agent["handle"], agent["model_alias"], session["id"])
    return table


def direct_created(session: DirectSessionView) -> RenderableType:
    agent = session["agent"]
    origin = "a copy of the room agent" if session["source_agent_id"] else "a new agent"
    return Group(
        Text.assemble(("Started direct chat ", "green"), (session["title"], "bold"),
                      " with ", (agent["handle"], "bold cyan"),
                      f" ({origin}; {agent['model_alias']}, tools {tools_cell(agent['tools'])}, "
                      f"role: {excerpt(agent['role_prompt']) or NONE})."),
        Text(f"Its memory is its own. Chat: pantheon direct chat {session['id']} \"message\"",
             style="dim"),
    )


def directs_trash_table(sessions: list[DirectSessionView]) -> RenderableType:
    if not sessions:
        return Text("No deleted direct chats to restore.", style="dim")
    table = Table(title="Deleted direct chats", title_justify="left")
    table.add_column("Title", style="bold", overflow="fold")
    table.add_column("Agent", style="cyan", no_wrap=True)
    table.add_column("Restorable until")
    table.add_column("ID", style="dim", no_wrap=True)
    for session in sessions:
        table.add_row(session["title"], session["agent"]["handle"],
                      when(session["restorable_until"]), session["id"])
    return table


def direct_deleted(session: DirectSessionView) -> RenderableType:
    return Text.assemble(
        ("Deleted ", "green"), (session["title"], "bold"),
        f" with its history and files. Restorable until {when(session['restorable_until'])} "
        f"with:\n  pantheon direct restore {session['id']}")


def direct_restored(session: DirectSessionView) -> RenderableType:
    return Text.assemble(("Restored ", "green"), (session["title"], "bold"),
                         f" ({session['id']}) with its history and files.")
