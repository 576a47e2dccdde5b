"""Uploaded files, with the scope lock that serialises quota checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, update

from pantheon_adapters.sql.tables import direct_sessions, files, rooms
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.files import FileKind, FileScope, FileStatus, StoredFile
from pantheon_core.ids import DirectSessionId, FileId, RoomId, UserId


def _row(file: StoredFile) -> dict[str, Any]:
    return {"id": file.id, "owner_id": file.owner_id, "room_id": file.scope.room_id,
            "direct_session_id": file.scope.direct_session_id, "name": file.name,
            "kind": file.kind.value, "size_bytes": file.size_bytes, "sha256": file.sha256,
            "blob_key": file.blob_key, "status": file.status.value, "text_key": file.text_key,
            "text_chars": file.text_chars, "page_offsets": list(file.page_offsets),
            "error_code": file.error_code, "error_message": file.error_message,
            "parse_attempts": file.parse_attempts, "created_at": file.created_at,
            "updated_at": file.updated_at, "deleted_at": file.deleted_at}


def _file(row: Row[Any]) -> StoredFile:
    scope = FileScope(
        room_id=None if row.room_id is None else RoomId(row.room_id),
        direct_session_id=(None if row.direct_session_id is None
                           else DirectSessionId(row.direct_session_id)))
    return StoredFile(
        id=FileId(row.id), owner_id=UserId(row.owner_id), scope=scope, name=row.name,
        kind=FileKind(row.kind), size_bytes=row.size_bytes, sha256=row.sha256,
        blob_key=row.blob_key, status=FileStatus(row.status), created_at=row.created_at,
        updated_at=row.updated_at, text_key=row.text_key, text_chars=row.text_chars,
        page_offsets=tuple(int(offset) for offset in row.page_offsets),
        error_code=row.error_code, error_message=row.error_message,
        parse_attempts=row.parse_attempts, deleted_at=row.deleted_at)


def _in_scope(scope: FileScope) -> ColumnElement[bool]:
    if scope.room_id is not None:
        return files.c.room_id == scope.room_id
    return files.c.direct_session_id == scope.direct_session_id


class SqlFileRepository:
    """``FileRepository`` over ``files``.

    ``lock_scope`` and ``get(for_update=True)`` hold their lock until the unit of work ends:
    ``SELECT … FOR UPDATE`` of the room (or direct session) row, or of the file row, on
    PostgreSQL; on SQLite, which has one writer at a time, the unit of work's transaction
    is begun ``IMMEDIATE`` (see :class:`Tx`). ``list_for_scope`` is newest first, ties
    broken by id (descending); ``list_by_status`` oldest first, ties broken by id.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, file: StoredFile) -> None:
        await self._tx.execute(files.insert().values(_row(file)))

    async def get(self, file_id: FileId, *, for_update: bool = False) -> StoredFile | None:
        statement = select(files).where(files.c.id == file_id)
        if for_update:
            statement = statement.with_for_update()
        row = await self._tx.first(statement, lock=for_update)
        return None if row is None else _file(row)

    async def list_for_scope(self, scope: FileScope, *, deleted: bool = False,
                             limit: int = 500) -> Sequence[StoredFile]:
        state = files.c.deleted_at.is_not(None) if deleted else files.c.deleted_at.is_(None)
        rows = await self._tx.rows(
            select(files).where(_in_scope(scope), state)
            .order_by(files.c.created_at.desc(), files.c.id.desc()).limit(limit)
        )
        return [_file(row) for row in rows]

    async def list_by_status(self, statuses: Sequence[str], *,
                             limit: int = 500) -> Sequence[StoredFile]:
        if not statuses:
            return []
        rows = await self._tx.rows(
            select(files).where(files.c.status.in_(list(statuses)), files.c.deleted_at.is_(None))
            .order_by(files.c.created_at, files.c.id).limit(limit)
        )
        return [_file(row) for row in rows]

    async def lock_scope(self, scope: FileScope) -> None:
        if scope.room_id is not None:
            statement = select(rooms.c.id).where(rooms.c.id == scope.room_id)
        else:
            statement = select(direct_sessions.c.id).where(
                direct_sessions.c.id == scope.direct_session_id)
        await self._tx.first(statement.with_for_update(), lock=True)

    async def bytes_used(self, scope: FileScope) -> int:
        row = await self._tx.first(
            select(func.coalesce(func.sum(files.c.size_bytes), 0))
            .where(_in_scope(scope), files.c.deleted_at.is_(None))
        )
        return 0 if row is None else int(row[0])

    async def update(self, file: StoredFile) -> None:
        await self._tx.execute(update(files).where(files.c.id == file.id).values(_row(file)))
