"""Retention on SQL: batches to purge, child-first deletes, the blob queue and tombstones."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    true,
    update,
)

from pantheon_adapters.sql.tables import (
    blob_purges,
    direct_sessions,
    files,
    room_agents,
    room_sessions,
    rooms,
    tombstones,
    tool_call_events,
    turn_events,
    turn_steps,
    turns,
)
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.retention import Candidate, KindTally, PurgeKind, PurgeTally, PurgeUnit
from pantheon_core.domain.trash import PurgeReason, Tombstone, TrashKind
from pantheon_core.ids import UserId

Cursor = tuple[datetime, str]
CHUNK = 500  # rows per multi-row INSERT

# A tool call's text: what usage records would otherwise keep of a purged conversation.
_HAS_TEXT = or_(tool_call_events.c.arguments_summary != "",
                tool_call_events.c.result_summary != "",
                tool_call_events.c.error_message.is_not(None))


@dataclass(frozen=True, slots=True)
class _Scope:
    """Which rows of each table belong to a batch of units (``None``: no rows of that table)."""

    unit: PurgeUnit
    ids: tuple[str, ...]

    def rooms(self) -> ColumnElement[bool] | None:
        return rooms.c.id.in_(self.ids) if self.unit is PurgeUnit.ROOM else None

    def agents(self) -> ColumnElement[bool] | None:
        if self.unit is PurgeUnit.ROOM:
            return room_agents.c.room_id.in_(self.ids)
        return room_agents.c.id.in_(self.ids) if self.unit is PurgeUnit.AGENT else None

    def room_sessions(self) -> ColumnElement[bool] | None:
        if self.unit is PurgeUnit.ROOM:
            return room_sessions.c.room_id.in_(self.ids)
        return room_sessions.c.id.in_(self.ids) if self.unit is PurgeUnit.ROOM_SESSION else None

    def direct_sessions(self) -> ColumnElement[bool] | None:
        return (direct_sessions.c.id.in_(self.ids) if self.unit is PurgeUnit.DIRECT_SESSION
                else None)

    def turns(self) -> ColumnElement[bool] | None:
        column = {PurgeUnit.ROOM: turns.c.room_id, PurgeUnit.ROOM_SESSION: turns.c.session_id,
                  PurgeUnit.DIRECT_SESSION: turns.c.direct_session_id,
                  PurgeUnit.TURN: turns.c.id}.get(self.unit)
        return None if column is None else column.in_(self.ids)

    def files(self) -> ColumnElement[bool] | None:
        column = {PurgeUnit.ROOM: files.c.room_id,
                  PurgeUnit.DIRECT_SESSION: files.c.direct_session_id,
                  PurgeUnit.FILE: files.c.id}.get(self.unit)
        return None if column is None else column.in_(self.ids)

    def of_turns(self, column: Any) -> ColumnElement[bool] | None:
        """Rows whose ``column`` is the id of one of the batch's turns."""
        where = self.turns()
        return None if where is None else column.in_(select(turns.c.id).where(where))


def _after(at: Any, ident: Any, cursor: Cursor | None) -> ColumnElement[bool]:
    if cursor is None:
        return true()
    return or_(at > cursor[0], and_(at == cursor[0], ident > cursor[1]))


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


class SqlRetentionRepository:
    """``RetentionRepository`` over the conversation and file tables, ``tombstones`` and
    ``blob_purges``.

    Purges delete child rows first (events, steps, turns, files, agents, sessions, rooms), so
    the counts are the rows each statement removed and nothing hangs on ``ON DELETE``
    cascades. Usage and billing tables are only ever updated to clear a tool call's text.
    A locking selection is ``FOR UPDATE OF <table> SKIP LOCKED`` on PostgreSQL; on SQLite it
    begins the unit of work as the writer (see :class:`Tx`).
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    # -- selections ---------------------------------------------------------------------

    async def deleted_before(self, unit: PurgeUnit, bound: datetime, *, after: Cursor | None,
                             limit: int, lock: bool) -> Sequence[Candidate]:
        room_gone = exists().where(rooms.c.deleted_at < bound)
        chat_gone = exists().where(direct_sessions.c.deleted_at < bound)
        if unit is PurgeUnit.ROOM:
            table, where = rooms, rooms.c.deleted_at < bound
        elif unit is PurgeUnit.DIRECT_SESSION:
            table, where = direct_sessions, direct_sessions.c.deleted_at < bound
        elif unit is PurgeUnit.AGENT:
            table, where = room_agents, and_(
                room_agents.c.deleted_at < bound,
                ~room_gone.where(rooms.c.id == room_agents.c.room_id))
        elif unit is PurgeUnit.FILE:
            table, where = files, and_(
                files.c.deleted_at < bound,
                ~room_gone.where(rooms.c.id == files.c.room_id),
                ~chat_gone.where(direct_sessions.c.id == files.c.direct_session_id))
        else:
            raise ValueError(f"{unit.value} is not something users delete.")
        return await self._candidates(table, table.c.deleted_at, where, after, limit, lock)

    async def expired_before(self, unit: PurgeUnit, bound: datetime, *, after: Cursor | None,
                             limit: int, lock: bool) -> Sequence[Candidate]:
        if unit is PurgeUnit.TURN:
            return await self._candidates(turns, turns.c.created_at, turns.c.created_at < bound,
                                          after, limit, lock)
        if unit is PurgeUnit.FILE:
            return await self._candidates(files, files.c.created_at, files.c.created_at < bound,
                                          after, limit, lock)
        if unit is PurgeUnit.ROOM_SESSION:
            recent = exists().where(turns.c.session_id == room_sessions.c.id,
                                    turns.c.created_at >= bound)
            return await self._candidates(
                room_sessions, room_sessions.c.updated_at,
                and_(room_sessions.c.updated_at < bound, ~recent), after, limit, lock)
        if unit is PurgeUnit.DIRECT_SESSION:
            recent_turn = exists().where(turns.c.direct_session_id == direct_sessions.c.id,
                                         turns.c.created_at >= bound)
            recent_file = exists().where(files.c.direct_session_id == direct_sessions.c.id,
                                         files.c.created_at >= bound)
            return await self._candidates(
                direct_sessions, direct_sessions.c.updated_at,
                and_(direct_sessions.c.deleted_at.is_(None),
                     direct_sessions.c.updated_at < bound, ~recent_turn, ~recent_file),
                after, limit, lock)
        raise ValueError(f"{unit.value} does not expire on its own.")

    async def stale_memories(self, unit: PurgeUnit, bound: datetime, *, after: Cursor | None,
                             limit: int, lock: bool) -> Sequence[Candidate]:
        table, column = self._conversation(unit)
        old_turn = exists().where(column == table.c.id, turns.c.created_at < bound)
        return await self._candidates(table, table.c.created_at,
                                      and_(table.c.memory_summary != "", old_turn),
                                      after, limit, lock)

    async def _candidates(self, table: Table, at: Any, where: ColumnElement[bool],
                          after: Cursor | None, limit: int, lock: bool) -> Sequence[Candidate]:
        statement = (select(table.c.id, at.label("at")).where(where, _after(at, table.c.id, after))
                     .order_by(at, table.c.id).limit(limit))
        if lock:
            statement = statement.with_for_update(skip_locked=True, of=table)
        rows = (await self._tx.execute(statement, lock=lock)).all()
        return [Candidate(id=row.id, at=row.at) for row in rows]

    @staticmethod
    def _conversation(unit: PurgeUnit) -> tuple[Table, Any]:
        """A conversation table, and the turns' column pointing at it."""
        if unit is PurgeUnit.ROOM_SESSION:
            return room_sessions, turns.c.session_id
        if unit is PurgeUnit.DIRECT_SESSION:
            return direct_sessions, turns.c.direct_session_id
        raise ValueError(f"{unit.value} has no memory.")

    # -- purging ------------------------------------------------------------------------

    async def clear_memories(self, unit: PurgeUnit, ids: Sequence[str]) -> int:
        table, _ = self._conversation(unit)
        result = await self._tx.execute(
            update(table).where(table.c.id.in_(list(ids)), table.c.memory_summary != "")
            .values(memory_summary="", memory_summary_through=None))
        return result.rowcount

    async def measure(self, unit: PurgeUnit, ids: Sequence[str]) -> PurgeTally:
        scope = _Scope(unit, tuple(ids))
        rows = {
            PurgeKind.ROOMS: await self._count(rooms, scope.rooms()),
            PurgeKind.AGENTS: await self._count(room_agents, scope.agents()),
            PurgeKind.ROOM_SESSIONS: await self._count(room_sessions, scope.room_sessions()),
            PurgeKind.DIRECT_SESSIONS: await self._count(direct_sessions,
                                                         scope.direct_sessions()),
            PurgeKind.TURNS: await self._count(turns, scope.turns()),
            PurgeKind.STEPS: await self._count(turn_steps, scope.of_turns(turn_steps.c.turn_id)),
            PurgeKind.EVENTS: await self._count(turn_events,
                                                scope.of_turns(turn_events.c.turn_id)),
            PurgeKind.TOOL_CALL_DETAILS: await self._count(
                tool_call_events, _with_text(scope.of_turns(tool_call_events.c.turn_id))),
        }
        counts = {kind: KindTally(rows=n) for kind, n in rows.items()}
        counts[PurgeKind.FILES] = await self._file_tally(scope.files())
        return PurgeTally.of(counts)

    async def purge(self, unit: PurgeUnit, ids: Sequence[str], *, now: datetime,
                    reason: PurgeReason) -> PurgeTally:
        scope = _Scope(unit, tuple(ids))
        doomed_files = await self._doomed_files(scope.files())
        await self._queue_blobs(doomed_files, now)
        await self._bury(scope, doomed_files, now, reason)
        counts = {PurgeKind.TOOL_CALL_DETAILS: await self._clear_tool_text(scope)}
        for kind, table, where in (
            (PurgeKind.EVENTS, turn_events, scope.of_turns(turn_events.c.turn_id)),
            (PurgeKind.STEPS, turn_steps, scope.of_turns(turn_steps.c.turn_id)),
            (PurgeKind.TURNS, turns, scope.turns()),
            (PurgeKind.FILES, files, scope.files()),
            (PurgeKind.AGENTS, room_agents, scope.agents()),
            (PurgeKind.ROOM_SESSIONS, room_sessions, scope.room_sessions()),
            (PurgeKind.DIRECT_SESSIONS, direct_sessions, scope.direct_sessions()),
            (PurgeKind.ROOMS, rooms, scope.rooms()),
        ):
            counts[kind] = await self._delete(table, where)
        tallies = {kind: KindTally(rows=n) for kind, n in counts.items()}
        stored = _file_objects(doomed_files)
        tallies[PurgeKind.FILES] = KindTally(rows=counts[PurgeKind.FILES], blobs=stored.blobs,
                                             blob_bytes=stored.blob_bytes)
        return PurgeTally.of(tallies)

    async def _count(self, table: Table, where: ColumnElement[bool] | None) -> int:
        if where is None:
            return 0
        row = await self._tx.first(select(func.count()).select_from(table).where(where))
        return 0 if row is None else int(row[0])

    async def _file_tally(self, where: ColumnElement[bool] | None) -> KindTally:
        if where is None:
            return KindTally()
        row = await self._tx.first(
            select(func.count().label("n"), func.count(files.c.text_key).label("texts"),
                   func.coalesce(func.sum(files.c.size_bytes), 0).label("size")).where(where))
        if row is None:
            return KindTally()
        return KindTally(rows=int(row.n), blobs=int(row.n) + int(row.texts),
                         blob_bytes=int(row.size))

    async def _doomed_files(self, where: ColumnElement[bool] | None) -> Sequence[Any]:
        if where is None:
            return []
        return await self._tx.rows(
            select(files.c.id, files.c.owner_id, files.c.deleted_at, files.c.blob_key,
                   files.c.text_key, files.c.size_bytes).where(where))

    async def _queue_blobs(self, doomed: Sequence[Any], now: datetime) -> None:
        keys = sorted({key for row in doomed for key in (row.blob_key, row.text_key) if key})
        for chunk in _chunks([{"blob_key": key, "queued_at": now} for key in keys]):
            await self._tx.execute(self._tx.insert(blob_purges).values(list(chunk))
                                   .on_conflict_do_nothing())

    async def _bury(self, scope: _Scope, doomed_files: Sequence[Any], now: datetime,
                    reason: PurgeReason) -> None:
        """Tombstones for the rooms, agents, direct sessions and files in the trash."""
        found: list[tuple[TrashKind, Any]] = []
        if (where := scope.rooms()) is not None:
            found += [(TrashKind.ROOM, row) for row in await self._tx.rows(
                select(rooms.c.id, rooms.c.owner_id, rooms.c.deleted_at)
                .where(where, rooms.c.deleted_at.is_not(None)))]
        if (where := scope.agents()) is not None:
            found += [(TrashKind.AGENT, row) for row in await self._tx.rows(
                select(room_agents.c.id, rooms.c.owner_id, room_agents.c.deleted_at)
                .join(rooms, rooms.c.id == room_agents.c.room_id)
                .where(where, room_agents.c.deleted_at.is_not(None)))]
        if (where := scope.direct_sessions()) is not None:
            found += [(TrashKind.DIRECT_SESSION, row) for row in await self._tx.rows(
                select(direct_sessions.c.id, direct_sessions.c.user_id.label("owner_id"),
                       direct_sessions.c.deleted_at)
                .where(where, direct_sessions.c.deleted_at.is_not(None)))]
        found += [(TrashKind.FILE, row) for row in doomed_files if row.deleted_at is not None]
        stones = [{"kind": kind.value, "id": row.id, "owner_id": row.owner_id,
                   "deleted_at": row.deleted_at, "purged_at": now, "reason": reason.value}
                  for kind, row in found]
        for chunk in _chunks(stones):
            await self._tx.execute(self._tx.insert(tombstones).values(list(chunk))
                                   .on_conflict_do_nothing())

    async def _clear_tool_text(self, scope: _Scope) -> int:
        where = _with_text(scope.of_turns(tool_call_events.c.turn_id))
        if where is None:
            return 0
        result = await self._tx.execute(
            update(tool_call_events).where(where)
            .values(arguments_summary="", result_summary="", error_message=None))
        return result.rowcount

    async def _delete(self, table: Table, where: ColumnElement[bool] | None) -> int:
        if where is None:
            return 0
        return (await self._tx.execute(delete(table).where(where))).rowcount

    # -- the blob queue and tombstones ---------------------------------------------------

    async def queued_blobs(self, *, limit: int) -> Sequence[str]:
        rows = await self._tx.rows(select(blob_purges.c.blob_key)
                                   .order_by(blob_purges.c.queued_at, blob_purges.c.blob_key)
                                   .limit(limit))
        return [row.blob_key for row in rows]

    async def forget_blobs(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), CHUNK):
            await self._tx.execute(delete(blob_purges).where(
                blob_purges.c.blob_key.in_(list(keys[start:start + CHUNK]))))

    async def tombstone(self, kind: TrashKind, ref: str) -> Tombstone | None:
        row = await self._tx.first(select(tombstones).where(tombstones.c.kind == kind.value,
                                                            tombstones.c.id == ref))
        if row is None:
            return None
        return Tombstone(kind=TrashKind(row.kind), id=row.id, owner_id=UserId(row.owner_id),
                         purged_at=row.purged_at, reason=PurgeReason(row.reason),
                         deleted_at=row.deleted_at)

    async def count_tombstones(self, *, purged_before: datetime) -> int:
        return await self._count(tombstones, tombstones.c.purged_at < purged_before)

    async def drop_tombstones(self, *, purged_before: datetime) -> int:
        return await self._delete(tombstones, tombstones.c.purged_at < purged_before)


def _with_text(where: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
    return None if where is None else and_(where, _HAS_TEXT)


def _file_objects(doomed: Sequence[Any]) -> KindTally:
    """The stored objects of these files: each original, and its text once parsed."""
    return KindTally(blobs=sum(1 + (row.text_key is not None) for row in doomed),
                     blob_bytes=sum(int(row.size_bytes) for row in doomed))
