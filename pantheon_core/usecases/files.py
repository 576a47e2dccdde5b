"""Files of a room or a direct session (FR-TOOL-003/004, NFR-SEC-003, AT-007).

Uploading is two steps, so bytes never pass through a request that carries the user's
credentials and the size limit holds however the client behaves:

1. :class:`RequestUpload` checks the scope, the name and (if declared) the size, and signs a
   short-lived upload URL. Nothing is stored.
2. :class:`FinishUpload` receives the bytes at that URL: it verifies the signature, streams
   the bytes to the blob store while counting (``file_too_large`` the moment the limit is
   crossed), decides the type from the content, then — holding the scope's lock so concurrent
   uploads cannot overshoot — checks the 100 MB quota and records the file. Any refusal
   deletes what was written: a bad upload stores nothing. A parse job is queued last.

:class:`ParseFile` is that job: ``uploaded → parsing → ready | failed``, idempotent, so a
redelivered job (a worker died mid-parse) finishes the file exactly once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from pantheon_core.actor import Actor
from pantheon_core.domain.file_types import detect_kind
from pantheon_core.domain.files import (
    FileScope,
    FileStatus,
    StoredFile,
    sanitize_filename,
    storage_full,
    text_key_for,
    too_large,
)
from pantheon_core.domain.jobs import PARSE_FILE
from pantheon_core.domain.signed_urls import sign, verify
from pantheon_core.domain.trash import TrashKind, restore_window_expired
from pantheon_core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    Unavailable,
    not_found,
)
from pantheon_core.ids import DirectSessionId, FileId, RoomId, UserId, new_id
from pantheon_core.ports.blob_store import BlobStore
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.access import owned_room
from pantheon_core.usecases.deps import Deps, UseCase
from pantheon_core.usecases.direct import owned_direct
from pantheon_core.usecases.trash import missing_for_restore

logger = logging.getLogger("pantheon.files")

STUCK_AFTER_S = 120  # an uploaded/parsing file untouched this long gets its parse re-queued


@dataclass(frozen=True, slots=True)
class UploadTicket:
    file_id: FileId
    name: str
    url: str
    method: str
    token: str
    expires_at: datetime
    max_bytes: int


@dataclass(frozen=True, slots=True)
class FileListing:
    files: Sequence[StoredFile]
    used_bytes: int
    limit_bytes: int


@dataclass(frozen=True, slots=True)
class DownloadLink:
    file: StoredFile
    url: str
    token: str
    expires_at: datetime


class _FileUseCase(UseCase):
    def _blobs(self) -> BlobStore:
        if self.deps.blobs is None:
            raise Unavailable("File storage is not configured on this server.",
                              code="files_not_configured")
        return self.deps.blobs

    async def _scope(self, uow: UnitOfWork, actor: Actor, *, room_id: str | None,
                     direct_session_id: str | None) -> FileScope:
        if (room_id is None) == (direct_session_id is None):
            raise InvalidInput("Give a room or a direct session, exactly one.",
                               code="invalid_file_scope")
        if room_id is not None:
            room = await owned_room(uow, actor, room_id)
            return FileScope(room_id=room.id)
        session = await owned_direct(uow, actor, str(direct_session_id))
        return FileScope(direct_session_id=session.id)

    async def _owned(self, uow: UnitOfWork, actor: Actor, file_id: str, *,
                     for_update: bool = False) -> StoredFile:
        user_id = actor.require_user()
        file = await uow.files.get(FileId(file_id), for_update=for_update)
        if file is None or file.owner_id != user_id:
            raise not_found("file", file_id)
        await self._check_scope_alive(uow, file.scope, file_id)
        return file

    async def _check_scope_alive(self, uow: UnitOfWork, scope: FileScope, ref: str) -> None:
        if scope.room_id is not None:
            room = await uow.rooms.get(scope.room_id)
            alive = room is not None and not room.is_deleted
        else:
            session = await uow.sessions.get_direct_session(
                DirectSessionId(str(scope.direct_session_id)))
            alive = session is not None and session.deleted_at is None
        if not alive:
            raise not_found("file", ref)


class RequestUpload(_FileUseCase):
    """Sign an upload URL for one file of a room or direct session the actor owns."""

    async def __call__(self, actor: Actor, *, filename: str, room_id: str | None = None,
                       direct_session_id: str | None = None,
                       size_bytes: int | None = None) -> UploadTicket:
        self._blobs()
        policy = self.deps.files
        if not isinstance(filename, str):
            raise InvalidInput("Give the file's name.", code="invalid_filename")
        name = sanitize_filename(filename)
        if size_bytes is not None:
            if size_bytes < 0:
                raise InvalidInput("The size cannot be negative.", code="invalid_size")
            if size_bytes > policy.max_file_bytes:
                raise too_large(policy.max_file_bytes)
        async with self.deps.uow() as uow:
            scope = await self._scope(uow, actor, room_id=room_id,
                                      direct_session_id=direct_session_id)
            used = await uow.files.bytes_used(scope)
        if used + (size_bytes or 1) > policy.max_scope_bytes:
            raise storage_full(scope, used=used, size=size_bytes or 0,
                               limit=policy.max_scope_bytes)
        file_id = FileId(new_id())
        expires = self.deps.clock.now() + policy.upload_ttl
        token = sign(policy.signing_secret, "upload", {
            "f": file_id, "u": actor.require_user(), "k": scope.kind[0], "s": scope.ref,
            "n": name}, expires)
        return UploadTicket(file_id=file_id, name=name, method="PUT", token=token,
                            url=f"{policy.url_base}/uploads/{token}", expires_at=expires,
                            max_bytes=policy.max_file_bytes)


class _Tee:
    """Passes chunks through while hashing and keeping them (≤ the file limit)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.chunks = chunks
        self.sha = hashlib.sha256()
        self.body = bytearray()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            self.sha.update(chunk)
            self.body += chunk
            yield chunk


class FinishUpload(_FileUseCase):
    """Receive the bytes for a signed upload URL; the signature is the credential."""

    async def __call__(self, token: str, chunks: AsyncIterator[bytes]) -> StoredFile:
        blobs, policy = self._blobs(), self.deps.files
        claims = verify(policy.signing_secret, "upload", token, now=self.deps.clock.now())
        file_id, user_id = FileId(str(claims["f"])), UserId(str(claims["u"]))
        scope = (FileScope(room_id=RoomId(str(claims["s"]))) if claims["k"] == "r" else
                 FileScope(direct_session_id=DirectSessionId(str(claims["s"]))))
        name = str(claims["n"])
        async with self.deps.uow() as uow:
            await self._check_unused(uow, file_id)
            await self._check_scope_alive(uow, scope, scope.ref)
        key = f"files/{file_id}/original-{new_id()[:8]}"
        tee = _Tee(chunks)
        try:
            size = await blobs.put(key, tee.__aiter__(), max_bytes=policy.max_file_bytes,
                                   content_type="application/octet-stream")
        except InvalidInput as exc:
            if exc.code == "file_too_large":
                raise too_large(policy.max_file_bytes) from None
            raise
        try:
            if size == 0:
                raise InvalidInput("The file is empty.", code="empty_file",
                                   details={"allowed_min_bytes": 1})
            kind = detect_kind(bytes(tee.body), name)
            now = self.deps.clock.now()
            file = StoredFile(id=file_id, owner_id=user_id, scope=scope, name=name, kind=kind,
                              size_bytes=size, sha256=tee.sha.hexdigest(), blob_key=key,
                              status=FileStatus.UPLOADED, created_at=now, updated_at=now)
            async with self.deps.uow() as uow:
                await uow.files.lock_scope(scope)
                await self._check_unused(uow, file_id)
                used = await uow.files.bytes_used(scope)
                if used + size > policy.max_scope_bytes:
                    raise storage_full(scope, used=used, size=size,
                                       limit=policy.max_scope_bytes)
                await uow.files.add(file)
                await uow.commit()
        except BaseException:
            await blobs.delete(key)
            raise
        await queue_parse(self, file)
        return file

    @staticmethod
    async def _check_unused(uow: UnitOfWork, file_id: FileId) -> None:
        if await uow.files.get(file_id) is not None:
            raise Conflict("This upload link was already used. Ask for a new one.",
                           code="upload_already_used")


async def queue_parse(case: UseCase, file: StoredFile) -> None:
    """Queue the file's parse; without a queue, parse now (tests and scripts)."""
    jobs = case.deps.jobs
    if jobs is None:
        try:
            await ParseFile(case.deps)(file.id, final_attempt=True)
        except Exception:  # the file is marked failed with its reason; the upload stands
            logger.info("Parsing file %s failed", file.id, exc_info=True)
        return
    try:
        await jobs.enqueue(PARSE_FILE, {"file_id": file.id})
    except Unavailable:  # the file stays "uploaded"; RequeueStuckFiles picks it up
        logger.exception("Could not queue the parse of file %s", file.id)


class ListFiles(_FileUseCase):
    async def __call__(self, actor: Actor, *, room_id: str | None = None,
                       direct_session_id: str | None = None,
                       deleted: bool = False) -> FileListing:
        async with self.deps.uow() as uow:
            scope = await self._scope(uow, actor, room_id=room_id,
                                      direct_session_id=direct_session_id)
            files = await uow.files.list_for_scope(scope, deleted=deleted)
            used = await uow.files.bytes_used(scope)
        return FileListing(files=files, used_bytes=used,
                           limit_bytes=self.deps.files.max_scope_bytes)


class GetFile(_FileUseCase):
    async def __call__(self, actor: Actor, file_id: str) -> StoredFile:
        async with self.deps.uow() as uow:
            return await self._owned(uow, actor, file_id)


class DeleteFile(_FileUseCase):
    """Soft delete: hidden from listings and agents at once; restorable for 7 days."""

    async def __call__(self, actor: Actor, file_id: str) -> StoredFile:
        async with self.deps.uow() as uow:
            file = await self._owned(uow, actor, file_id, for_update=True)
            if file.is_deleted:
                return file
            file = file.deleted(self.deps.clock.now())
            await uow.files.update(file)
            await uow.commit()
        return file


class RestoreFile(_FileUseCase):
    """Bring back a file deleted less than 7 days ago, if its scope still has space
    (``room_storage_full``); a live file is returned as it is. After 7 days, or once purged:
    ``410 restore_window_expired``."""

    async def __call__(self, actor: Actor, file_id: str) -> StoredFile:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            try:
                file = await self._owned(uow, actor, file_id)
            except NotFound as missing:
                raise await missing_for_restore(uow, actor, TrashKind.FILE, file_id,
                                                missing) from None
            if not file.is_deleted:
                return file
            if not file.restorable(now):
                raise restore_window_expired(TrashKind.FILE, file.id, file.restorable_until())
            await uow.files.lock_scope(file.scope)
            used = await uow.files.bytes_used(file.scope)
            if used + file.size_bytes > self.deps.files.max_scope_bytes:
                raise storage_full(file.scope, used=used, size=file.size_bytes,
                                   limit=self.deps.files.max_scope_bytes)
            file = file.restored(now)
            await uow.files.update(file)
            await uow.commit()
        return file


class CreateDownloadLink(_FileUseCase):
    async def __call__(self, actor: Actor, file_id: str) -> DownloadLink:
        async with self.deps.uow() as uow:
            file = await self._owned(uow, actor, file_id)
        if file.is_deleted:
            raise not_found("file", file_id)
        policy = self.deps.files
        expires = self.deps.clock.now() + policy.download_ttl
        token = sign(policy.signing_secret, "download", {"f": file.id}, expires)
        return DownloadLink(file=file, token=token, expires_at=expires,
                            url=f"{policy.url_base}/downloads/{token}")


class OpenDownload(_FileUseCase):
    """The file and its bytes for a signed download URL (checked before any byte is read)."""

    async def __call__(self, token: str) -> tuple[StoredFile, AsyncIterator[bytes]]:
        blobs, policy = self._blobs(), self.deps.files
        claims = verify(policy.signing_secret, "download", token, now=self.deps.clock.now())
        async with self.deps.uow() as uow:
            file = await uow.files.get(FileId(str(claims["f"])))
            if file is None or file.is_deleted:
                raise not_found("file", str(claims["f"]))
            await self._check_scope_alive(uow, file.scope, file.id)
        if not await blobs.exists(file.blob_key):
            raise not_found("file", file.id)
        return file, blobs.open(file.blob_key)


class ParseFile(_FileUseCase):
    """The ``parse_file`` job: extract the text of one uploaded file. Idempotent.

    A failure is stored on the file (``failed``, with a code and a reason) and also raised,
    so the job run records it: ``InvalidInput`` (bad content) is final at once; anything
    else is retried by the queue, and stored on the file at the last attempt.
    """

    async def __call__(self, file_id: FileId, *, final_attempt: bool) -> None:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            file = await uow.files.get(file_id, for_update=True)
            if file is None or file.status in (FileStatus.READY, FileStatus.FAILED):
                return  # gone, or already finished by an earlier delivery
            file = file.parsing(now)
            await uow.files.update(file)
            await uow.commit()
        try:
            blobs = self._blobs()
            if self.deps.documents is None:
                raise Unavailable("No document parser is configured.",
                                  code="parser_unavailable")
            try:
                data = await blobs.read(file.blob_key, max_bytes=self.deps.files.max_file_bytes)
            except NotFound:
                await self._finish(file.failed(self.deps.clock.now(), code="file_missing",
                                               message="The uploaded bytes are missing."))
                return
            extracted = await self.deps.documents.extract(file.kind, data,
                                                          limits=self.deps.files.parse)
            text_key = text_key_for(file.id)
            text = extracted.text
            if extracted.truncated:
                text += (f"\n\n[The rest of this file's text was not kept: only the first "
                         f"{self.deps.files.parse.max_chars} characters are.]")
            encoded = text.encode("utf-8")

            async def body() -> AsyncIterator[bytes]:
                yield encoded

            await blobs.put(text_key, body(), max_bytes=len(encoded) + 1,
                            content_type="text/plain; charset=utf-8")
            await self._finish(file.ready(self.deps.clock.now(), text_key=text_key,
                                          text_chars=len(text),
                                          page_offsets=extracted.page_offsets))
        except InvalidInput as exc:  # the content itself is bad: retrying cannot help
            await self._finish(file.failed(self.deps.clock.now(), code=exc.code,
                                           message=exc.message))
            raise  # the job run is a failure too (RunJob does not retry InvalidInput)
        except Exception as exc:
            if final_attempt:
                await self._finish(file.failed(
                    self.deps.clock.now(), code="parse_failed",
                    message=f"The file could not be read after several attempts: {exc}"[:500]))
            raise

    async def _finish(self, file: StoredFile) -> None:
        await finish_parse(self.deps, file)


async def finish_parse(deps: Deps, file: StoredFile) -> None:
    """Store a parse's outcome, unless another delivery of the job finished the file first."""
    async with deps.uow() as uow:
        current = await uow.files.get(file.id, for_update=True)
        if current is None or current.status in (FileStatus.READY, FileStatus.FAILED):
            return
        await uow.files.update(file)
        await uow.commit()


class RequeueStuckFiles(_FileUseCase):
    """Queue parses again for files left ``uploaded``/``parsing`` (a lost in-memory queue, a
    failed enqueue). Safe to run any time: parsing is idempotent. Returns how many."""

    async def __call__(self) -> int:
        if self.deps.jobs is None:
            return 0
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            files = await uow.files.list_by_status(
                [FileStatus.UPLOADED.value, FileStatus.PARSING.value])
        stuck = [f for f in files if (now - f.updated_at).total_seconds() >= STUCK_AFTER_S]
        for file in stuck:
            if file.parse_attempts > self.deps.files.parse_max_attempts + 1:
                await finish_parse(self.deps, file.failed(
                    now, code="parse_failed",
                    message="Parsing this file stopped the worker repeatedly; it was given up."))
                continue
            await queue_parse(self, file)
        return len(stuck)
