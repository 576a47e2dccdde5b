"""``pantheon direct``: 1:1 chats with one agent, whose memory is separate from any room."""

from __future__ import annotations

from typing import Annotated

import typer

from pantheon_cli import streaming
from pantheon_cli.options import (
    Before,
    ChatJsonFlag,
    JsonFlag,
    Limit,
    Message,
    before_time,
    message_text,
)
from pantheon_cli.runner import Invocation, Session
from pantheon_cli.views import conversations as views
from pantheon_cli.views import turns as turn_views
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.sessions import DirectSession

app = typer.Typer(help="Direct chats: talk 1:1 with one agent, with its own memory; delete "
                       "and restore (7 days).",
                  no_args_is_help=True)

SessionRef = Annotated[str, typer.Argument(metavar="SESSION", help="The direct chat's id.")]
SOURCE_HELP = "Pass --room ROOM --agent AGENT (copy a room agent) or --name NAME --model ALIAS."


@app.command("new")
def new_session(
    ctx: typer.Context,
    room: Annotated[str | None, typer.Option(
        "--room", metavar="ROOM", help="Copy an agent of this room (with --agent).")] = None,
    agent: Annotated[str | None, typer.Option(
        "--agent", metavar="AGENT", help="The room agent to copy (id or name).")] = None,
    name: Annotated[str | None, typer.Option(
        "--name", metavar="NAME", help="Or define a new agent: its name (with --model).")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", metavar="ALIAS", help="The new agent's model: llama, qwen, deepseek, "
                                         "gpt_oss or premium.")] = None,
    role: Annotated[str, typer.Option("--role", help="The new agent's role prompt.")] = "",
    web_search: Annotated[bool, typer.Option("--web-search", help="The new agent may search "
                                                                  "the web.")] = False,
    files: Annotated[bool, typer.Option("--files", help="The new agent may read "
                                                        "files.")] = False,
    title: Annotated[str | None, typer.Option("--title", help="A title for the chat.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Start a direct chat with a copy of a room agent, or with a new agent."""
    run = Invocation(ctx, as_json=as_json)
    defines = name is not None or model is not None or role or web_search or files
    if room is not None or agent is not None:
        if room is None or agent is None or defines:
            run.out.usage_error("conflicting_options", SOURCE_HELP)

        async def copy(s: Session, r: Room) -> DirectSession:
            return await s.use_cases.create_direct_session(s.actor, room_id=r.id,
                                                           agent_ref=agent, title=title)

        created = run.in_room(room, copy)
    else:
        if name is None or model is None:
            run.out.usage_error("agent_required", SOURCE_HELP)
        created = run.call(lambda s: s.use_cases.create_direct_session(
            s.actor, name=name, model_alias=model, role_prompt=role, web_search=web_search,
            files=files, title=title))
    run.out.emit(views.direct_data(created), views.direct_created)


@app.command("list")
def list_sessions(
    ctx: typer.Context,
    deleted: Annotated[bool, typer.Option("--deleted", help="Show deleted chats that can "
                                                            "still be restored.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List your direct chats, or with --deleted the ones in the 7-day trash."""
    run = Invocation(ctx, as_json=as_json)
    found = run.call(lambda s: s.use_cases.list_direct_sessions(s.actor, deleted=deleted))
    run.out.emit(views.directs_data(found),
                 views.directs_trash_table if deleted else views.directs_table)


@app.command("delete")
def delete_session(ctx: typer.Context, session: SessionRef, as_json: JsonFlag = False) -> None:
    """Delete a direct chat with its history and files; it can be restored for 7 days."""
    run = Invocation(ctx, as_json=as_json)
    deleted = run.call(lambda s: s.use_cases.delete_direct_session(s.actor, session))
    run.out.emit(views.direct_data(deleted), views.direct_deleted, soft_wrap=True)


@app.command("restore")
def restore_session(ctx: typer.Context, session: SessionRef, as_json: JsonFlag = False) -> None:
    """Restore a direct chat deleted less than 7 days ago."""
    run = Invocation(ctx, as_json=as_json)
    restored = run.call(lambda s: s.use_cases.restore_direct_session(s.actor, session))
    run.out.emit(views.direct_data(restored), views.direct_restored)


@app.command("chat")
def chat(ctx: typer.Context, session: SessionRef, message: Message,
         as_json: ChatJsonFlag = False) -> None:
    """Send MESSAGE in a direct chat and stream the answer (exit codes as pantheon chat)."""
    run = Invocation(ctx, as_json=as_json, json_lines=True)
    text = message_text(run.out, message)
    end = run.call(lambda s: streaming.chat(s, run.out, lambda: s.use_cases.send_direct(
        s.actor, session, text)))
    raise typer.Exit(end.exit_code)


@app.command("history")
def history(ctx: typer.Context, session: SessionRef, limit: Limit = 20, before: Before = None,
            as_json: JsonFlag = False) -> None:
    """Show a direct chat: each of your messages, then the agent's answer."""
    run = Invocation(ctx, as_json=as_json)
    older_than = before_time(run.out, before)
    page = run.call(lambda s: s.use_cases.list_timeline(
        s.actor, direct_session_id=session, limit=limit, before=older_than))
    run.out.emit(turn_views.timeline_data(page), turn_views.timeline_view(
        f"No messages yet. Send one: pantheon direct chat {session} \"message\""))
