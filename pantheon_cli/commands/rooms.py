"""``pantheon rooms``: list, create, show, update, delete, restore, set the mode; and a
room's conversation sessions and timeline."""

from __future__ import annotations

from typing import Annotated

import typer

from pantheon_cli.options import Before, JsonFlag, Limit, RoomRef, before_time
from pantheon_cli.runner import Invocation, Session
from pantheon_cli.views import conversations as conversation_views
from pantheon_cli.views import rooms as views
from pantheon_cli.views import turns as turn_views
from pantheon_core.domain.rooms import Room
from pantheon_core.errors import NotFound

app = typer.Typer(help="Your rooms: create, inspect, rename, delete and restore; set the mode.",
                  no_args_is_help=True)

ModeArg = Annotated[str, typer.Argument(metavar="MODE",
                                        help="manual, roundtable or orchestrator.")]


@app.command("list")
def list_rooms(
    ctx: typer.Context,
    deleted: Annotated[bool, typer.Option("--deleted", help="Show deleted rooms that can "
                                                            "still be restored.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List your rooms, or with --deleted the ones in the 7-day trash."""
    run = Invocation(ctx, as_json=as_json)
    rooms = run.call(lambda s: s.use_cases.list_rooms(s.actor, deleted=deleted))
    run.out.emit(views.rooms_data(rooms), views.trash_table if deleted else views.rooms_table)


@app.command("create")
def create_room(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The room's name.")],
    description: Annotated[str, typer.Option(help="What the room is for.")] = "",
    mode: Annotated[str | None, typer.Option(help="Starting mode: manual, roundtable "
                                                  "(default) or orchestrator.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a room owned by you."""
    run = Invocation(ctx, as_json=as_json)
    room = run.call(lambda s: s.use_cases.create_room(s.actor, name=name,
                                                      description=description, mode=mode))
    run.out.emit(views.room_data(room), views.created_view)


@app.command("show")
def show_room(ctx: typer.Context, room: RoomRef, as_json: JsonFlag = False) -> None:
    """Show a room: its current mode, any pending mode, and its agents."""
    run = Invocation(ctx, as_json=as_json)
    detail = run.in_room(room, lambda s, r: s.use_cases.get_room(s.actor, r.id))
    run.out.emit(views.detail_data(detail), views.detail_view)


@app.command("update")
def update_room(
    ctx: typer.Context,
    room: RoomRef,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    description: Annotated[str | None, typer.Option(help="A new description "
                                                         "('' clears it).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rename a room or change its description."""
    run = Invocation(ctx, as_json=as_json)
    if name is None and description is None:
        run.out.usage_error("nothing_to_update", "Pass --name and/or --description.")
    updated = run.in_room(room, lambda s, r: s.use_cases.update_room(
        s.actor, r.id, name=name, description=description))
    run.out.emit(views.room_data(updated), views.updated_view)


@app.command("mode")
def set_mode(ctx: typer.Context, room: RoomRef, mode: ModeArg, as_json: JsonFlag = False) -> None:
    """Set the mode for the next send; the current mode stays until then."""
    run = Invocation(ctx, as_json=as_json)
    updated = run.in_room(room, lambda s, r: s.use_cases.request_mode(s.actor, r.id, mode))
    run.out.emit(views.room_data(updated), views.mode_message)


@app.command("delete")
def delete_room(ctx: typer.Context, room: RoomRef, as_json: JsonFlag = False) -> None:
    """Delete a room; it can be restored for 7 days."""
    run = Invocation(ctx, as_json=as_json)
    deleted = run.in_room(room, lambda s, r: s.use_cases.delete_room(s.actor, r.id))
    run.out.emit(views.room_data(deleted), views.deleted_message, soft_wrap=True)


@app.command("restore")
def restore_room(ctx: typer.Context, room: RoomRef, as_json: JsonFlag = False) -> None:
    """Restore a room deleted less than 7 days ago, with its agents, chats and files."""
    run = Invocation(ctx, as_json=as_json)

    async def restore(s: Session) -> Room:
        try:
            found = await s.use_cases.find_room(s.actor, room, include_deleted=True)
        except NotFound:  # purged already (restore says so), or never there
            return await s.use_cases.restore_room(s.actor, room)
        return await s.use_cases.restore_room(s.actor, found.id)

    restored = run.call(restore)
    run.out.emit(views.room_data(restored), views.restored_message)


@app.command("sessions")
def list_sessions(ctx: typer.Context, room: RoomRef, as_json: JsonFlag = False) -> None:
    """List a room's conversation sessions, newest first."""
    run = Invocation(ctx, as_json=as_json)
    sessions = run.in_room(room, lambda s, r: s.use_cases.list_room_sessions(s.actor, r.id))
    run.out.emit(conversation_views.room_sessions_data(sessions),
                 conversation_views.room_sessions_table)


@app.command("new-session")
def new_session(
    ctx: typer.Context, room: RoomRef,
    title: Annotated[str | None, typer.Option("--title", help="A title for the session.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Start a fresh conversation in a room: new memory and timeline, same agents."""
    run = Invocation(ctx, as_json=as_json)
    session = run.in_room(room, lambda s, r: s.use_cases.start_room_session(s.actor, r.id,
                                                                            title=title))
    run.out.emit(conversation_views.room_session_data(session),
                 conversation_views.room_session_created)


@app.command("timeline")
def timeline(
    ctx: typer.Context, room: RoomRef,
    session: Annotated[str | None, typer.Option(
        "--session", metavar="ID", help="Which session (default: the latest).")] = None,
    limit: Limit = 20, before: Before = None, as_json: JsonFlag = False,
) -> None:
    """Show a room's conversation: each message, then every step as its own message."""
    run = Invocation(ctx, as_json=as_json)
    older_than = before_time(run.out, before)
    page = run.in_room(room, lambda s, r: s.use_cases.list_timeline(
        s.actor, room_id=r.id, session_id=session, limit=limit, before=older_than))
    run.out.emit(turn_views.timeline_data(page), turn_views.timeline_view(
        f"No messages yet. Send one: pantheon chat {room} \"message\""))
