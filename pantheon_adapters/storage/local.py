"""``BlobStore`` over a local directory: the embedded default.

Each key is a file under ``root``. Uploads go to a hidden temporary file in the target's directory
and are renamed into place only once complete, so readers never see a partial object and a failed
or oversize upload leaves nothing behind. Blocking file calls run in worker threads.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from pathlib import Path
from typing import BinaryIO

import anyio
import anyio.to_thread

from pantheon_core.errors import InvalidInput, Unavailable, not_found
from pantheon_core.ports.blob_store import check_blob_key, file_too_large, read_limited

CHUNK_SIZE = 64 * 1024
WRITE_BUFFER = 1024 * 1024  # batch small incoming chunks into fewer thread hops
_TEMP_PREFIX = ".upload-"


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Report OS failures as the core's ``Unavailable``; callers handle a missing file first."""
    try:
        yield
    except OSError as exc:
        raise Unavailable("File storage is not available.", code="storage_unavailable") from exc


class LocalBlobStore:
    """Stores blobs as files under ``root`` (created on first use)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        """The file for ``key``, refusing anything that would resolve outside ``root``."""
        check_blob_key(key)
        root = self._root.resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root) or path == root:
            # e.g. a symlink planted inside root that points out of it
            raise InvalidInput("That storage key leaves the store.", code="invalid_blob_key",
                               details={"key": key})
        return path

    async def put(
        self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int, content_type: str
    ) -> int:
        path = await anyio.to_thread.run_sync(self._path, key)
        with _storage_errors():
            handle, temp_name = await anyio.to_thread.run_sync(_open_temp, path)
        try:
            with _storage_errors():
                total = await _copy_limited(chunks, handle, max_bytes=max_bytes)
                await anyio.to_thread.run_sync(_finish, handle, temp_name, path)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_discard, handle, temp_name)
            raise
        return total

    def open(self, key: str) -> AsyncIterator[bytes]:
        return self._chunks(key)

    async def _chunks(self, key: str) -> AsyncGenerator[bytes, None]:
        path = await anyio.to_thread.run_sync(self._path, key)
        with _storage_errors():
            try:
                file = await anyio.open_file(path, "rb")
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
                raise not_found("blob", key) from exc
            async with file:
                while chunk := await file.read(CHUNK_SIZE):
                    yield chunk

    async def read(self, key: str, *, max_bytes: int) -> bytes:
        async with aclosing(self._chunks(key)) as chunks:
            return await read_limited(chunks, max_bytes=max_bytes)

    async def delete(self, key: str) -> None:
        path = await anyio.to_thread.run_sync(self._path, key)
        with _storage_errors():
            await anyio.to_thread.run_sync(self._remove, path)

    def _remove(self, path: Path) -> None:
        """Unlink the object, then its directories up to the root while they are empty."""
        path.unlink(missing_ok=True)
        parent = path.parent
        while parent != self._root and parent.is_relative_to(self._root):
            try:
                parent.rmdir()
            except OSError:  # not empty (or already gone): stop climbing
                return
            parent = parent.parent

    async def exists(self, key: str) -> bool:
        path = await anyio.to_thread.run_sync(self._path, key)
        with _storage_errors():
            return await anyio.to_thread.run_sync(path.is_file)

    async def ping(self) -> None:
        with _storage_errors():
            # abandoned on cancel: a readiness probe's timeout must not wait for a hung disk
            await anyio.to_thread.run_sync(_check_writable, self._root, abandon_on_cancel=True)


async def _copy_limited(chunks: AsyncIterator[bytes], handle: BinaryIO, *, max_bytes: int) -> int:
    """Copy ``chunks`` into ``handle``, stopping as soon as the total passes ``max_bytes``."""
    total = 0
    buffer = bytearray()
    async for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise file_too_large(max_bytes)
        buffer += chunk
        if len(buffer) >= WRITE_BUFFER:
            await anyio.to_thread.run_sync(handle.write, bytes(buffer))
            buffer.clear()
    if buffer:
        await anyio.to_thread.run_sync(handle.write, bytes(buffer))
    return total


def _open_temp(path: Path) -> tuple[BinaryIO, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
    return os.fdopen(fd, "wb"), name


def _finish(handle: BinaryIO, temp_name: str, path: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(temp_name, path)  # atomic within one directory


def _discard(handle: BinaryIO, temp_name: str) -> None:
    handle.close()
    Path(temp_name).unlink(missing_ok=True)


def _check_writable(root: Path) -> None:
    """Really write (and remove) a byte: permissions alone miss a read-only or full disk."""
    root.mkdir(parents=True, exist_ok=True)
    if not os.access(root, os.W_OK | os.X_OK):
        raise PermissionError(f"{root} is not writable")
    with tempfile.NamedTemporaryFile(dir=root, prefix=_TEMP_PREFIX) as probe:
        probe.write(b"0")
        probe.flush()
