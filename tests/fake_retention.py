"""The in-memory ``RetentionRepository``: the same selections and purges as the SQL one,
over the fake's ``Store`` (checked against it by ``test_retention_contract.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pantheon_core.domain.retention import Candidate, KindTally, PurgeKind, PurgeTally, PurgeUnit
from pantheon_core.domain.sessions import Memory
from pantheon_core.domain.trash import PurgeReason, Tombstone, TrashKind

if TYPE_CHECKING:
    from tests.fakes import Store

Cursor = tuple[datetime, str]


def _page(found: Iterable[Candidate], after: Cursor | None, limit: int) -> list[Candidate]:
    ordered = sorted(found, key=lambda c: c.cursor)
    return [c for c in ordered if after is None or c.cursor > after][:limit]


@dataclass
class _Scope:
    """The ids of every row a batch of units takes with it."""

    rooms: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    room_sessions: set[str] = field(default_factory=set)
    direct_sessions: set[str] = field(default_factory=set)
    turns: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)


class FakeRetention:
    def __init__(self, s: Store) -> None:
        self.s = s

    # -- selections ---------------------------------------------------------------------

    def _room_gone(self, room_id: str | None, bound: datetime) -> bool:
        room = self.s.rooms.get(room_id) if room_id else None
        return bool(room and room.deleted_at and room.deleted_at < bound)

    def _chat_gone(self, session_id: str | None, bound: datetime) -> bool:
        chat = (self.s.direct_sessions.get(session_id)
                if session_id else None)
        return bool(chat and chat.deleted_at and chat.deleted_at < bound)

    async def deleted_before(self, unit: PurgeUnit, bound: datetime, *, after: Cursor | None,
                             limit: int, lock: bool) -> Sequence[Candidate]:
        rows: Iterable[Any]
        if unit is PurgeUnit.ROOM:
            rows = self.s.rooms.values()
        elif unit is PurgeUnit.DIRECT_SESSION:
            rows = self.s.direct_sessions.values()
        elif unit is PurgeUnit.AGENT:
            rows = (a for a in self.s.agents.values() if not self._room_gone(a.room_id, bound))
        elif unit is PurgeUnit.FILE:
            rows = (f for f in self.s.files.values()
                    if not self._room_gone(f.scope.room_id, bound)
                    and not self._chat_gone(f.scope.direct_session_id, bound))
        else:
            raise ValueError(f"{unit.value} is not something users delete.")
        return _page((Candidate(r.id, r.deleted_at) for r in rows
                      if r.deleted_at is not None and r.deleted_at < bound), after, limit)

    async def expired_before(self, unit: PurgeUnit, bound: datetime, *, after: Cursor | None,
                             limit: int, lock: bool) -> Sequence[Candidate]:
        s = self.s
        if unit is PurgeUnit.TURN:
            found = [Candidate(t.id, t.created_at) for t in s.turns.values()
                     if t.created_at < bound]
        elif unit is PurgeUnit.FILE:
            found = [Candidate(f.id, f.created_at) for f in s.files.values()
                     if f.created_at < bound]
        elif unit is PurgeUnit.ROOM_SESSION:
            found = [Candidate(rs.id, rs.updated_at) for rs in s.room_sessions.values()
                     if rs.updated_at < bound and not any(
                         t.session_id == rs.id and t.created_at >= bound
                         for t in s.turns.values())]
        elif unit is PurgeUnit.DIRECT_SESSION:
            found = [Candidate(ds.id, ds.updated_at) for ds in s.direct_sessions.values()
                     if ds.deleted_at is None and ds.updated_at < bound
                     and not any(t.direct_session_id == ds.id and t.created_at >= bound
                                 for t in s.turns.values())
                     and not any(f.scope.direct_session_id == ds.id and f.created_at >= bound
                                 for f in s.files.values())]
        else:
            raise ValueError(f"{unit.value} does not expire on its own.")
        return _page(found, after, limit)

    def _conversations(self, unit: PurgeUnit) -> dict[Any, Any]:
        if unit is PurgeUnit.ROOM_SESSION:
            return self.s.room_sessions
        if unit is PurgeUnit.DIRECT_SESSION:
            return self.s.direct_sessions
        raise ValueError(f"{unit.value} has no memory.")

    async def stale_memories(self, unit: PurgeUnit, bound: datetime, *, after: Cursor | None,
                             limit: int, lock: bool) -> Sequence[Candidate]:
        column = "session_id" if unit is PurgeUnit.ROOM_SESSION else "direct_session_id"
        found = [Candidate(c.id, c.created_at) for c in self._conversations(unit).values()
                 if c.memory.summary and any(
                     getattr(t, column) == c.id and t.created_at < bound
                     for t in self.s.turns.values())]
        return _page(found, after, limit)

    # -- purging ------------------------------------------------------------------------

    async def clear_memories(self, unit: PurgeUnit, ids: Sequence[str]) -> int:
        table, cleared = self._conversations(unit), 0
        for ident in ids:
            found = table.get(ident)
            if found is not None and found.memory.summary:
                table[ident] = replace(found, memory=Memory())
                cleared += 1
        return cleared

    def _scope(self, unit: PurgeUnit, ids: Sequence[str]) -> _Scope:
        s, wanted, scope = self.s, set(ids), _Scope()
        if unit is PurgeUnit.ROOM:
            scope.rooms = wanted & set(s.rooms)
            scope.agents = {a.id for a in s.agents.values() if a.room_id in wanted}
            scope.room_sessions = {rs.id for rs in s.room_sessions.values()
                                   if rs.room_id in wanted}
            scope.turns = {t.id for t in s.turns.values() if t.room_id in wanted}
            scope.files = {f.id for f in s.files.values() if f.scope.room_id in wanted}
        elif unit is PurgeUnit.DIRECT_SESSION:
            scope.direct_sessions = wanted & set(s.direct_sessions)
            scope.turns = {t.id for t in s.turns.values() if t.direct_session_id in wanted}
            scope.files = {f.id for f in s.files.values()
                           if f.scope.direct_session_id in wanted}
        elif unit is PurgeUnit.ROOM_SESSION:
            scope.room_sessions = wanted & set(s.room_sessions)
            scope.turns = {t.id for t in s.turns.values() if t.session_id in wanted}
        elif unit is PurgeUnit.AGENT:
            scope.agents = wanted & set(s.agents)
        elif unit is PurgeUnit.TURN:
            scope.turns = wanted & set(s.turns)
        elif unit is PurgeUnit.FILE:
            scope.files = wanted & set(s.files)
        return scope

    def _tally(self, scope: _Scope) -> PurgeTally:
        s = self.s
        doomed_files = [s.files[f] for f in scope.files]
        counts = {
            PurgeKind.ROOMS: len(scope.rooms), PurgeKind.AGENTS: len(scope.agents),
            PurgeKind.ROOM_SESSIONS: len(scope.room_sessions),
            PurgeKind.DIRECT_SESSIONS: len(scope.direct_sessions),
            PurgeKind.TURNS: len(scope.turns),
            PurgeKind.STEPS: sum(st.turn_id in scope.turns for st in s.steps.values()),
            PurgeKind.EVENTS: sum(turn in scope.turns for turn, _ in s.events),
            PurgeKind.TOOL_CALL_DETAILS: sum(c.turn_id in scope.turns and _has_text(c)
                                             for c in s.tool_calls),
        }
        tallies = {kind: KindTally(rows=n) for kind, n in counts.items()}
        tallies[PurgeKind.FILES] = KindTally(
            rows=len(doomed_files),
            blobs=sum(1 + (f.text_key is not None) for f in doomed_files),
            blob_bytes=sum(f.size_bytes for f in doomed_files))
        return PurgeTally.of(tallies)

    async def measure(self, unit: PurgeUnit, ids: Sequence[str]) -> PurgeTally:
        return self._tally(self._scope(unit, ids))

    async def purge(self, unit: PurgeUnit, ids: Sequence[str], *, now: datetime,
                    reason: PurgeReason) -> PurgeTally:
        s, scope = self.s, self._scope(unit, ids)
        tally = self._tally(scope)
        for file_id in scope.files:
            file = s.files[file_id]
            for key in (file.blob_key, file.text_key):
                if key:
                    s.blob_purges.setdefault(key, now)
        self._bury(scope, now, reason)
        s.tool_calls = [replace(c, arguments_summary="", result_summary="", error_message=None)
                        if c.turn_id in scope.turns else c for c in s.tool_calls]
        s.events = {k: e for k, e in s.events.items() if k[0] not in scope.turns}
        s.steps = {k: st for k, st in s.steps.items() if st.turn_id not in scope.turns}
        for table, gone in ((s.turns, scope.turns), (s.files, scope.files),
                            (s.agents, scope.agents), (s.room_sessions, scope.room_sessions),
                            (s.direct_sessions, scope.direct_sessions), (s.rooms, scope.rooms)):
            for ident in gone:
                del table[ident]
        return tally

    def _bury(self, scope: _Scope, now: datetime, reason: PurgeReason) -> None:
        s = self.s
        found: list[tuple[TrashKind, Any, str]] = []
        found += [(TrashKind.ROOM, s.rooms[i], s.rooms[i].owner_id)
                  for i in scope.rooms]
        found += [(TrashKind.AGENT, s.agents[i],
                   s.rooms[s.agents[i].room_id].owner_id)
                  for i in scope.agents]
        found += [(TrashKind.DIRECT_SESSION, s.direct_sessions[i],
                   s.direct_sessions[i].user_id) for i in scope.direct_sessions]
        found += [(TrashKind.FILE, s.files[i], s.files[i].owner_id)
                  for i in scope.files]
        for kind, row, owner in found:
            if row.deleted_at is not None:
                s.tombstones.setdefault((kind.value, row.id), Tombstone(
                    kind=kind, id=row.id, owner_id=owner, purged_at=now, reason=reason,
                    deleted_at=row.deleted_at))

    # -- the blob queue and tombstones ---------------------------------------------------

    async def queued_blobs(self, *, limit: int) -> Sequence[str]:
        return [key for key, _ in sorted(self.s.blob_purges.items(),
                                         key=lambda item: (item[1], item[0]))][:limit]

    async def forget_blobs(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.s.blob_purges.pop(key, None)

    async def tombstone(self, kind: TrashKind, ref: str) -> Tombstone | None:
        return self.s.tombstones.get((kind.value, ref))

    async def count_tombstones(self, *, purged_before: datetime) -> int:
        return sum(t.purged_at < purged_before for t in self.s.tombstones.values())

    async def drop_tombstones(self, *, purged_before: datetime) -> int:
        old = [k for k, t in self.s.tombstones.items() if t.purged_at < purged_before]
        for key in old:
            del self.s.tombstones[key]
        return len(old)


def _has_text(call: Any) -> bool:
    return bool(call.arguments_summary or call.result_summary or call.error_message is not None)
