"""``pantheon files``: upload files agents can read, list, show, download, delete, restore.

A file belongs to a room (ROOM: its id or unique name) or, with ``--direct SESSION``, to a
direct chat (then no ROOM is given).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from pantheon_cli import transfers
from pantheon_cli.options import JsonFlag
from pantheon_cli.output import EXIT_ERROR
from pantheon_cli.runner import Invocation, Session
from pantheon_cli.views import files as views

T = TypeVar("T")

app = typer.Typer(help="Files agents can read (PDF, DOCX, TXT, MD, CSV; 10 MB each, "
                       "100 MB per room): upload, list, download, delete, restore.",
                  no_args_is_help=True)

FileRef = Annotated[str, typer.Argument(metavar="FILE_ID", help="The file's id.")]
DirectOption = Annotated[str | None, typer.Option(
    "--direct", metavar="SESSION", help="A direct chat's files instead of a room's "
                                        "(then give no ROOM).")]
SCOPE_HELP = "Give ROOM (an id or a unique name), or --direct SESSION, but not both."


def in_scope(run: Invocation, room: str | None, direct: str | None,
             work: Callable[[Session, transfers.Destination], Awaitable[T]]) -> T:
    """Run ``work`` for ROOM (resolved by id or name) or for the direct chat SESSION."""
    if (room is None) == (direct is None):
        run.out.usage_error("scope_required", SCOPE_HELP)
    if room is not None:
        return run.in_room(room, lambda s, r: work(s, transfers.Destination(room_id=r.id)))

    async def direct_chat(s: Session) -> T:
        found = await s.use_cases.get_direct_session(s.actor, str(direct))
        return await work(s, transfers.Destination(direct_session_id=found.id))

    return run.call(direct_chat)


@app.command("upload")
def upload(
    ctx: typer.Context,
    targets: Annotated[list[str], typer.Argument(
        metavar="ROOM PATH...", help="The room, then the files; with --direct, only the files.")],
    direct: DirectOption = None,
    wait: Annotated[bool, typer.Option(
        "--wait/--no-wait", help="Wait (up to a minute) until each file is read.")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Upload files; each is checked by its content and then read for the agents.

    A refused file is reported and the others still upload; the exit code is 1 if any
    file was refused or could not be read."""
    run = Invocation(ctx, as_json=as_json)
    room, names = (None, targets) if direct is not None else (targets[0], targets[1:])
    if not names:
        run.out.usage_error("paths_required", "Give at least one file to upload.")
    paths = [Path(name) for name in names]
    outcomes = in_scope(run, room, direct, lambda s, to: transfers.upload_all(
        s, run.out, to, paths, wait=wait))
    run.out.emit(outcomes, views.uploads_table)
    if wait and transfers.still_reading(outcomes):
        run.out.notice("Some files are still being read; check later with: "
                       "pantheon files show FILE_ID")
    if transfers.any_failed(outcomes):
        raise typer.Exit(EXIT_ERROR)


@app.command("list")
def list_files(
    ctx: typer.Context,
    room: Annotated[str | None, typer.Argument(
        metavar="[ROOM]", help="Room id, or the room's name when it is unique.")] = None,
    direct: DirectOption = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Show deleted files that can "
                                                            "still be restored.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List a room's (or direct chat's) files, and how much of its storage is used."""
    run = Invocation(ctx, as_json=as_json)
    listing = in_scope(run, room, direct, lambda s, to: s.use_cases.list_files(
        s.actor, room_id=to.room_id, direct_session_id=to.direct_session_id, deleted=deleted))
    run.out.emit(views.listing_data(listing), views.trash_table if deleted else views.files_table)


@app.command("show")
def show_file(ctx: typer.Context, file_id: FileRef, as_json: JsonFlag = False) -> None:
    """Show a file: its type, size, status and what was read from it."""
    run = Invocation(ctx, as_json=as_json)
    file = run.call(lambda s: s.use_cases.get_file(s.actor, file_id))
    run.out.emit(views.file_data(file), views.file_panel)


@app.command("delete")
def delete_file(ctx: typer.Context, file_id: FileRef, as_json: JsonFlag = False) -> None:
    """Delete a file: agents stop seeing it at once; it can be restored for 7 days."""
    run = Invocation(ctx, as_json=as_json)
    file = run.call(lambda s: s.use_cases.delete_file(s.actor, file_id))
    run.out.emit(views.file_data(file), views.deleted_message, soft_wrap=True)


@app.command("restore")
def restore_file(ctx: typer.Context, file_id: FileRef, as_json: JsonFlag = False) -> None:
    """Restore a file deleted less than 7 days ago (if its room still has space)."""
    run = Invocation(ctx, as_json=as_json)
    file = run.call(lambda s: s.use_cases.restore_file(s.actor, file_id))
    run.out.emit(views.file_data(file), views.restored_message)


@app.command("download")
def download_file(
    ctx: typer.Context, file_id: FileRef,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="PATH",
        help="Where to save it: a file, or a directory (default: the file's name, here).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Download a file's original bytes."""
    run = Invocation(ctx, as_json=as_json)
    saved = run.call(lambda s: transfers.download(s, file_id, output, force=force))
    run.out.emit(saved, views.saved_message, soft_wrap=True)
