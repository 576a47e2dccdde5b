"""File bytes in and out of the CLI: ``files upload`` and ``files download``.

The CLI runs core in-process, so an upload is the same two steps the API takes —
``request_upload`` signs a link, ``finish_upload`` receives the bytes — with the bytes read
from disk in 64 KiB chunks while a progress bar (on stderr) advances. Each path is its own
upload: one that is refused (wrong type, too large, storage full…) is reported and the
others still go. With ``wait`` the CLI then polls the file until it is read (``ready``) or
``failed``, with a spinner, for at most a minute.

A download asks for a signed link and reads it like any client would, writing to a
temporary file beside the target that replaces it only once complete. The stored name is
sanitised before it becomes a path, and an existing file is never overwritten without
``force``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)

from pantheon_cli.output import Output
from pantheon_cli.runner import Session
from pantheon_cli.views.files import SavedView, UploadOutcome, file_data
from pantheon_core.domain.files import FileStatus, StoredFile, sanitize_filename
from pantheon_core.errors import Conflict, InvalidInput, PantheonError

CHUNK_BYTES = 64 * 1024
WAIT_TIMEOUT_S = 60.0
POLL_S = 0.2
DONE = frozenset({FileStatus.READY, FileStatus.FAILED})


@dataclass(frozen=True, slots=True)
class Destination:
    """Where uploads go: a room or a direct chat (exactly one)."""

    room_id: str | None = None
    direct_session_id: str | None = None


async def upload_all(session: Session, out: Output, to: Destination, paths: Sequence[Path], *,
                     wait: bool) -> list[UploadOutcome]:
    """Upload every path in turn; a refusal is recorded in its outcome, not raised."""
    outcomes: list[UploadOutcome] = []
    for path in paths:
        try:
            file = await upload_one(session, out, to, path)
            if wait:
                file = await wait_until_read(session, out, file)
        except PantheonError as error:
            outcomes.append(UploadOutcome(path=str(path), file=None, error=error.to_dict()))
        else:
            outcomes.append(UploadOutcome(path=str(path), file=file_data(file), error=None))
    return outcomes


def any_failed(outcomes: Sequence[UploadOutcome]) -> bool:
    return any(o["error"] is not None or (o["file"] is not None and o["file"]["status"] ==
                                          FileStatus.FAILED.value) for o in outcomes)


def still_reading(outcomes: Sequence[UploadOutcome]) -> bool:
    done = {status.value for status in DONE}
    return any(o["file"] is not None and o["file"]["status"] not in done for o in outcomes)


async def upload_one(session: Session, out: Output, to: Destination, path: Path) -> StoredFile:
    size = _size_of(path)
    ticket = await session.use_cases.request_upload(
        session.actor, filename=path.name, room_id=to.room_id,
        direct_session_id=to.direct_session_id, size_bytes=size)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(binary_units=True),
                  TransferSpeedColumn(), console=out.stderr, transient=True) as progress:
        task = progress.add_task(f"Uploading {ticket.name}", total=size)
        return await session.use_cases.finish_upload(
            ticket.token, read_chunks(path, lambda n: progress.advance(task, n)))


async def wait_until_read(session: Session, out: Output, file: StoredFile) -> StoredFile:
    """The file once ``ready`` or ``failed``; as it is after ``WAIT_TIMEOUT_S`` otherwise."""
    with out.status(f"Reading {file.name}…"), anyio.move_on_after(WAIT_TIMEOUT_S):
        while True:
            file = await session.use_cases.get_file(session.actor, file.id)
            if file.status in DONE:
                break
            await anyio.sleep(POLL_S)
    return file


async def read_chunks(path: Path, advance: Callable[[int], None]) -> AsyncIterator[bytes]:
    try:
        async with await anyio.open_file(path, "rb") as handle:
            while chunk := await handle.read(CHUNK_BYTES):
                advance(len(chunk))
                yield chunk
    except OSError as exc:
        raise unreadable(path, exc) from None


def _size_of(path: Path) -> int:
    try:
        if not path.is_file():
            raise InvalidInput(f"{path} is not a file.", code="not_a_file",
                               details={"path": str(path)})
        return path.stat().st_size
    except OSError as exc:
        raise unreadable(path, exc) from None


def unreadable(path: Path, exc: OSError) -> InvalidInput:
    return InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.", code="unreadable_path",
                        details={"path": str(path)})


# --- download -----------------------------------------------------------------------------


async def download(session: Session, file_id: str, output: Path | None, *,
                   force: bool) -> SavedView:
    """Save the file's bytes at ``output`` (a file, or a directory for the stored name)."""
    link = await session.use_cases.create_download_link(session.actor, file_id)
    target = output_path(link.file.name, output)
    if await anyio.Path(target).exists() and not force:
        raise Conflict(f"{target} already exists; pass --force to replace it.",
                       code="output_exists", details={"path": str(target)})
    file, chunks = await session.use_cases.open_download(link.token)
    written = await write_replacing(target, chunks)
    return SavedView(file=file_data(file), path=str(target), bytes=written)


def output_path(stored_name: str, output: Path | None) -> Path:
    """``output``, or the sanitised stored name in ``output`` (a directory) or here."""
    safe = sanitize_filename(stored_name)
    if output is None:
        return Path.cwd() / safe
    return output / safe if output.is_dir() else output


async def write_replacing(target: Path, chunks: AsyncIterator[bytes]) -> int:
    """Write ``chunks`` to a temporary file beside ``target``, then move it into place."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                    dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise unwritable(target, exc) from None
    temp = anyio.Path(name)
    written = 0
    try:
        async with await anyio.open_file(temp, "wb") as handle:
            async for chunk in chunks:
                await handle.write(chunk)
                written += len(chunk)
        await temp.replace(target)
    except OSError as exc:
        await temp.unlink(missing_ok=True)
        raise unwritable(target, exc) from None
    except BaseException:
        with anyio.CancelScope(shield=True):
            await temp.unlink(missing_ok=True)
        raise
    return written


def unwritable(path: Path, exc: OSError) -> InvalidInput:
    return InvalidInput(f"Cannot write {path}: {exc.strerror or exc}.", code="unwritable_path",
                        details={"path": str(path)})
