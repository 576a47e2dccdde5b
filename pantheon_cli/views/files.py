"""Files: the file view (the API's shape), listings with used/limit, upload results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.cells import NONE, iso, label, when
from pantheon_core.domain.files import RESTORE_WINDOW, StoredFile
from pantheon_core.usecases.files import FileListing

STATUS_STYLE = {"uploaded": "blue", "parsing": "blue", "ready": "green", "failed": "red"}


class FileError(TypedDict):
    code: str
    message: str


class FileView(TypedDict):
    id: str
    name: str
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    status: str
    error: FileError | None
    pages: int
    text_chars: int
    created_at: str | None
    updated_at: str | None
    deleted_at: str | None
    room_id: str | None
    direct_session_id: str | None


class ListingView(TypedDict):
    files: list[FileView]
    used_bytes: int
    limit_bytes: int


class UploadOutcome(TypedDict):
    """One path of ``files upload``: the file it became, or why it did not."""

    path: str
    file: FileView | None
    error: dict[str, Any] | None  # the error document: code, message, details


class SavedView(TypedDict):
    file: FileView
    path: str
    bytes: int


def file_data(file: StoredFile) -> FileView:
    error = None if file.error_code is None else FileError(code=file.error_code,
                                                           message=file.error_message or "")
    return FileView(
        id=file.id, name=file.name, kind=file.kind.value, content_type=file.content_type,
        size_bytes=file.size_bytes, sha256=file.sha256, status=file.status.value, error=error,
        pages=file.pages, text_chars=file.text_chars, created_at=iso(file.created_at),
        updated_at=iso(file.updated_at), deleted_at=iso(file.deleted_at),
        room_id=file.scope.room_id, direct_session_id=file.scope.direct_session_id)


def listing_data(listing: FileListing) -> ListingView:
    return ListingView(files=[file_data(f) for f in listing.files],
                       used_bytes=listing.used_bytes, limit_bytes=listing.limit_bytes)


def size(n: int) -> str:
    """``812 B``, ``12.3 KB``, ``4.0 MB`` (powers of 1024, as the limits are)."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def status_cell(file: FileView) -> Text:
    return Text(file["status"], style=STATUS_STYLE.get(file["status"], ""))


def contents_cell(file: FileView) -> Text:
    """``3 pages · 2 410 chars``, or the reason it failed."""
    if file["error"]:
        return Text(f"{file['error']['code']}: {file['error']['message']}", style="red")
    if file["status"] != "ready":
        return Text("reading…" if file["status"] == "parsing" else "waiting to be read",
                    style="dim")
    chars = f"{file['text_chars']:,} chars".replace(",", " ")
    return Text(f"{file['pages']} pages · {chars}" if file["pages"] else chars)


def usage_line(listing: ListingView) -> Text:
    used, limit = listing["used_bytes"], listing["limit_bytes"]
    share = used / limit * 100 if limit else 0
    return Text(f"{size(used)} of {size(limit)} used ({share:.0f}%)", style="dim")


def files_table(listing: ListingView, *, deleted: bool = False) -> RenderableType:
    if not listing["files"]:
        empty = ("No deleted files to restore." if deleted else
                 "No files yet. Upload one: pantheon files upload ROOM PATH")
        return Group(Text(empty, style="dim"), usage_line(listing))
    table = Table(title="Deleted files" if deleted else "Files", title_justify="left")
    table.add_column("Name", style="bold", overflow="fold", min_width=14)
    table.add_column("Type")
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Restore by" if deleted else "Status", overflow="fold")
    table.add_column("ID", style="dim", overflow="fold", min_width=8)
    for file in listing["files"]:
        state = when(restorable_until(file)) if deleted else Text("\n").join(
            [status_cell(file), contents_cell(file)])
        table.add_row(file["name"], file["kind"], size(file["size_bytes"]), state, file["id"])
    return Group(table, usage_line(listing))


def trash_table(listing: ListingView) -> RenderableType:
    return files_table(listing, deleted=True)


def uploads_table(outcomes: Sequence[UploadOutcome]) -> RenderableType:
    table = Table(title="Uploads", title_justify="left")
    table.add_column("Name", style="bold", overflow="fold", min_width=14)
    table.add_column("Type")
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Status")
    table.add_column("Text", overflow="fold")
    for outcome in outcomes:
        file, error = outcome["file"], outcome["error"]
        if file is not None:
            table.add_row(file["name"], file["kind"], size(file["size_bytes"]),
                          status_cell(file), contents_cell(file))
        else:
            reason = f"{error['code']}: {error['message']}" if error else "not uploaded"
            table.add_row(outcome["path"], NONE, NONE, Text("refused", style="red"),
                          Text(reason, style="red"))
    return table


def file_panel(file: FileView, *, title: str = "File") -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(label("Name"), Text(file["name"], style="bold"))
    grid.add_row(label("ID"), Text(file["id"], style="dim"))
    grid.add_row(label("Type"), f"{file['kind']} ({file['content_type']})")
    grid.add_row(label("Size"), f"{size(file['size_bytes'])} ({file['size_bytes']} bytes)")
    grid.add_row(label("Status"), status_cell(file))
    grid.add_row(label("Contents"), contents_cell(file))
    grid.add_row(label("SHA-256"), Text(file["sha256"], style="dim"))
    if file["direct_session_id"]:
        grid.add_row(label("Direct chat"), file["direct_session_id"])
    else:
        grid.add_row(label("Room"), file["room_id"] or NONE)
    grid.add_row(label("Uploaded"), when(file["created_at"]))
    if file["deleted_at"]:
        grid.add_row(label("Deleted"), f"{when(file['deleted_at'])} (restorable until "
                                       f"{when(restorable_until(file))})")
    return Panel(grid, title=title, title_align="left", expand=False)


def restorable_until(file: FileView) -> str | None:
    if not file["deleted_at"]:
        return None
    return iso(datetime.fromisoformat(file["deleted_at"]) + RESTORE_WINDOW)


def deleted_message(file: FileView) -> RenderableType:
    return Text.assemble(
        ("Deleted ", "green"), (file["name"], "bold"),
        f". Restorable until {when(restorable_until(file))} with:\n"
        f"  pantheon files restore {file['id']}")


def restored_message(file: FileView) -> RenderableType:
    return Text.assemble(("Restored ", "green"), (file["name"], "bold"), f" ({file['id']}).")


def saved_message(saved: SavedView) -> RenderableType:
    return Text.assemble(("Saved ", "green"), (saved["file"]["name"], "bold"),
                         f" ({size(saved['bytes'])}) to {saved['path']}")
