"""The contract of ``RetentionRepository``, run on the fake, SQLite and PostgreSQL.

Selections (the trash by deletion time, content by age, conversations by last activity),
purges with everything that belongs to a unit, ``measure`` agreeing with ``purge``, the
blob queue, tombstones, usage rows surviving the rows they describe, and concurrent
purgers taking disjoint batches.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pantheon_core.domain.events import EventType
from pantheon_core.domain.files import FileScope, StoredFile
from pantheon_core.domain.retention import KindTally, PurgeKind, PurgeTally, PurgeUnit
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.sessions import DirectSession, Memory, RoomSession
from pantheon_core.domain.tools import ToolCallRecord
from pantheon_core.domain.trash import PurgeReason, TrashKind
from pantheon_core.domain.turns import AgentSnapshot, Turn
from pantheon_core.domain.usage import LlmCall
from pantheon_core.domain.users import User
from pantheon_core.ids import TurnId
from tests.integration.contract import T0, Factory, a_room, a_turn, a_user, an_agent, seed
from tests.integration.test_conversation_contract import (
    a_call,
    a_direct_session,
    a_room_session,
    a_step,
    an_event,
)
from tests.integration.test_file_repository_contract import a_file, a_tool_call

DAY = timedelta(days=1)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


@dataclass
class Room1:
    """A room with two agents, a session, a turn (2 steps, 3 events, one LLM call, one tool
    call) and a parsed file."""

    owner: User
    room: Room
    session: RoomSession
    turn: Turn
    file: StoredFile
    call: LlmCall
    tool: ToolCallRecord


async def a_furnished_room(uow: Factory, *, owner: User | None = None, when: datetime = T0,
                           name: str = "Research") -> Room1:
    first = owner is None
    owner = owner or a_user(at=when)
    room = a_room(owner, name=name, at=when)
    agents = [an_agent(room, "Ana", 0, at=when), an_agent(room, "Bo", 1, at=when)]
    session = a_room_session(room, at=when)
    turn = replace(a_turn(room, agents, at=when), session_id=session.id)
    steps = [replace(a_step(turn, i, agent=AgentSnapshot.of(a)), started_at=when)
             for i, a in enumerate(agents)]
    file = replace(a_file(owner, FileScope(room_id=room.id), at=when, size=1234),
                   text_key=None)
    file = replace(file, text_key=f"files/{file.id}/text.txt")
    call = a_call(turn, steps[0].id, at=when)
    tool = replace(a_tool_call(turn.id, at=when), user_id=owner.id, error_message="boom")
    await seed(uow, *([owner] if first else []), rooms=(room,))
    async with uow() as work:
        for agent in agents:
            await work.agents.add(agent)
        await work.sessions.add_room_session(session)
        await work.turns.add(turn)
        for step in steps:
            await work.steps.add(step)
        await work.events.append([replace(an_event(turn, seq, EventType.TURN_STARTED), ts=when)
                                  for seq in (1, 2, 3)])
        await work.files.add(file)
        await work.usage.add(call)
        await work.tool_usage.add_call(tool)
        await work.commit()
    return Room1(owner, room, session, turn, file, call, tool)


@dataclass
class Chat1:
    session: DirectSession
    turn: Turn
    file: StoredFile


async def a_direct_chat(uow: Factory, owner: User, *, when: datetime = T0) -> Chat1:
    agent = AgentSnapshot.of(an_agent(a_room(owner), "Cleo", 0))
    session = a_direct_session(owner, agent, at=when)
    turn = replace(a_turn(a_room(owner), [], at=when), room_id=None,
                   direct_session_id=session.id, roster=(agent,), selected=(agent.agent_id,))
    file = a_file(owner, FileScope(direct_session_id=session.id), at=when, size=55)
    async with uow() as work:
        await work.sessions.add_direct_session(session)
        await work.turns.add(turn)
        await work.steps.add(a_step(turn, 0, agent=agent))
        await work.files.add(file)
        await work.commit()
    return Chat1(session, turn, file)


async def trash(uow: Factory, *, room: Room | None = None, chat: DirectSession | None = None,
                file: StoredFile | None = None, when: datetime) -> None:
    async with uow() as work:
        if room is not None:
            await work.rooms.update(replace(room, deleted_at=when))
        if chat is not None:
            await work.sessions.update_direct_session(replace(chat, deleted_at=when))
        if file is not None:
            await work.files.update(replace(file, deleted_at=when))
        await work.commit()


async def ids(uow: Factory, method: str, unit: PurgeUnit, bound: datetime, *,
              limit: int = 100, after: tuple[datetime, str] | None = None) -> list[str]:
    async with uow() as work:
        found = await getattr(work.retention, method)(unit, bound, after=after, limit=limit,
                                                      lock=False)
    return [c.id for c in found]


# --- purging a room --------------------------------------------------------------------


async def test_a_room_goes_with_everything_in_it_and_usage_stays(uow: Factory) -> None:
    r = await a_furnished_room(uow)
    other = await a_furnished_room(uow, owner=r.owner, name="Other")
    await trash(uow, room=r.room, when=at(1))
    async with uow() as work:
        measured = await work.retention.measure(PurgeUnit.ROOM, [r.room.id])
    expected = PurgeTally.of({PurgeKind.FILES: KindTally(rows=1, blobs=2, blob_bytes=1234)},
                             rooms=1, agents=2, room_sessions=1, turns=1, steps=2, events=3,
                             tool_call_details=1)
    assert measured == expected
    async with uow() as work:
        purged = await work.retention.purge(PurgeUnit.ROOM, [r.room.id], now=at(9),
                                            reason=PurgeReason.GRACE_PERIOD)
        await work.commit()
    assert purged == expected
    async with uow() as work:
        assert await work.rooms.get(r.room.id) is None
        assert await work.agents.list_active(r.room.id) == []
        assert await work.sessions.get_room_session(r.session.id) is None
        assert await work.turns.get(r.turn.id) is None
        assert await work.steps.list_for_turns([r.turn.id]) == []
        assert await work.events.list_after(r.turn.id, after=0) == []
        assert await work.files.get(r.file.id) is None
        # Usage rows outlive what they describe; the tool call keeps its numbers, not its text.
        assert await work.usage.list_for_turn(r.turn.id) == [r.call]
        [tool] = await work.tool_usage.calls_for_turn(r.turn.id)
        assert tool == replace(r.tool, arguments_summary="", result_summary="",
                               error_message=None)
        assert set(await work.retention.queued_blobs(limit=10)) == \
            {r.file.blob_key, r.file.text_key}
        stone = await work.retention.tombstone(TrashKind.ROOM, r.room.id)
        # The other room is untouched.
        assert await work.rooms.get(other.room.id) == other.room
        assert len(await work.steps.list_for_turns([other.turn.id])) == 2
        [kept] = await work.tool_usage.calls_for_turn(other.turn.id)
        assert kept == other.tool
    assert stone is not None
    assert (stone.owner_id, stone.deleted_at, stone.purged_at, stone.reason) == \
        (r.owner.id, at(1), at(9), PurgeReason.GRACE_PERIOD)


async def test_purging_again_finds_nothing(uow: Factory) -> None:
    r = await a_furnished_room(uow)
    for expected_rooms in (1, 0):
        async with uow() as work:
            tally = await work.retention.purge(PurgeUnit.ROOM, [r.room.id], now=at(9),
                                               reason=PurgeReason.GRACE_PERIOD)
            await work.commit()
        assert tally.rows(PurgeKind.ROOMS) == expected_rooms
    assert tally.total_rows == 0


async def test_tombstones_only_for_what_was_in_the_trash(uow: Factory) -> None:
    r = await a_furnished_room(uow)
    async with uow() as work:
        [ana, bo] = await work.agents.list_active(r.room.id)
        await work.agents.update(replace(bo, deleted_at=at(1)))
        await work.files.update(replace(r.file, deleted_at=at(2)))
        await work.commit()
    async with uow() as work:
        await work.retention.purge(PurgeUnit.ROOM, [r.room.id], now=at(10),
                                   reason=PurgeReason.RETENTION)
        await work.commit()
    async with uow() as work:
        assert await work.retention.tombstone(TrashKind.ROOM, r.room.id) is None  # live room
        assert await work.retention.tombstone(TrashKind.AGENT, ana.id) is None
        bo_stone = await work.retention.tombstone(TrashKind.AGENT, bo.id)
        file_stone = await work.retention.tombstone(TrashKind.FILE, r.file.id)
    assert bo_stone is not None and (bo_stone.owner_id, bo_stone.deleted_at) == \
        (r.owner.id, at(1))
    assert file_stone is not None and file_stone.reason is PurgeReason.RETENTION


# --- the other units -----------------------------------------------------------------------


async def test_a_direct_chat_goes_with_its_turns_and_files(uow: Factory) -> None:
    r = await a_furnished_room(uow)
    chat = await a_direct_chat(uow, r.owner)
    await trash(uow, chat=chat.session, when=at(1))
    async with uow() as work:
        tally = await work.retention.purge(PurgeUnit.DIRECT_SESSION, [chat.session.id],
                                           now=at(9), reason=PurgeReason.GRACE_PERIOD)
        await work.commit()
    assert tally == PurgeTally.of({PurgeKind.FILES: KindTally(rows=1, blobs=1, blob_bytes=55)},
                                  direct_sessions=1, turns=1, steps=1)
    async with uow() as work:
        assert await work.sessions.get_direct_session(chat.session.id) is None
        assert await work.turns.get(chat.turn.id) is None
        assert await work.files.get(chat.file.id) is None
        stone = await work.retention.tombstone(TrashKind.DIRECT_SESSION, chat.session.id)
        assert await work.rooms.get(r.room.id) == r.room
    assert stone is not None and stone.owner_id == r.owner.id


async def test_turns_files_agents_and_sessions_as_units(uow: Factory) -> None:
    r = await a_furnished_room(uow)
    async with uow() as work:
        [ana, _bo] = await work.agents.list_active(r.room.id)
        turn_tally = await work.retention.purge(PurgeUnit.TURN, [r.turn.id], now=at(99),
                                                reason=PurgeReason.RETENTION)
        file_tally = await work.retention.purge(PurgeUnit.FILE, [r.file.id], now=at(99),
                                                reason=PurgeReason.RETENTION)
        agent_tally = await work.retention.purge(PurgeUnit.AGENT, [ana.id], now=at(99),
                                                 reason=PurgeReason.GRACE_PERIOD)
        session_tally = await work.retention.purge(PurgeUnit.ROOM_SESSION, [r.session.id],
                                                   now=at(99), reason=PurgeReason.RETENTION)
        await work.commit()
    assert turn_tally == PurgeTally.of(turns=1, steps=2, events=3, tool_call_details=1)
    assert file_tally == PurgeTally.of({PurgeKind.FILES: KindTally(1, 2, 1234)})
    assert agent_tally == PurgeTally.of(agents=1)
    assert session_tally == PurgeTally.of(room_sessions=1)
    async with uow() as work:
        assert [a.name for a in await work.agents.list_active(r.room.id)] == ["Bo"]
        assert await work.rooms.get(r.room.id) == r.room
        assert await work.usage.list_for_turn(r.turn.id) == [r.call]


# --- selections ------------------------------------------------------------------------


async def test_the_trash_oldest_first_paged_and_children_go_with_their_parent(
        uow: Factory) -> None:
    a = await a_furnished_room(uow, name="A")
    b = await a_furnished_room(uow, owner=a.owner, name="B")
    c = await a_furnished_room(uow, owner=a.owner, name="C")
    chat = await a_direct_chat(uow, a.owner)
    await trash(uow, room=b.room, when=at(2))
    await trash(uow, room=a.room, when=at(1))
    await trash(uow, room=c.room, when=at(20))  # still in its window at day 10
    await trash(uow, file=b.file, when=at(1))  # goes with room B
    await trash(uow, file=c.file, when=at(1))  # room C is not due: the file goes alone
    await trash(uow, chat=chat.session, when=at(3))
    await trash(uow, file=replace(chat.file, deleted_at=None), when=at(1))  # goes with its chat
    async with uow() as work:
        [ana_c, _] = await work.agents.list_active(c.room.id)
        await work.agents.update(replace(ana_c, deleted_at=at(1)))
        [ana_b, _] = await work.agents.list_active(b.room.id)
        await work.agents.update(replace(ana_b, deleted_at=at(1)))  # goes with room B
        await work.commit()
    bound = at(10)
    assert await ids(uow, "deleted_before", PurgeUnit.ROOM, bound) == [a.room.id, b.room.id]
    assert await ids(uow, "deleted_before", PurgeUnit.ROOM, bound, limit=1) == [a.room.id]
    assert await ids(uow, "deleted_before", PurgeUnit.ROOM, bound,
                     after=(at(1), a.room.id)) == [b.room.id]
    assert await ids(uow, "deleted_before", PurgeUnit.DIRECT_SESSION, bound) == \
        [chat.session.id]
    assert await ids(uow, "deleted_before", PurgeUnit.AGENT, bound) == [ana_c.id]
    assert await ids(uow, "deleted_before", PurgeUnit.FILE, bound) == [c.file.id]
    assert await ids(uow, "deleted_before", PurgeUnit.ROOM, at(1)) == []  # strictly before


async def test_content_by_age_and_conversations_by_last_activity(uow: Factory) -> None:
    old = await a_furnished_room(uow, when=at(0))
    new = await a_furnished_room(uow, owner=old.owner, when=at(50), name="New")
    idle = await a_direct_chat(uow, old.owner, when=at(1))
    busy = await a_direct_chat(uow, old.owner, when=at(2))
    async with uow() as work:  # a recent file keeps an otherwise idle chat
        await work.files.add(a_file(old.owner, FileScope(direct_session_id=busy.session.id),
                                    at=at(45)))
        await work.commit()
    bound = at(40)
    assert await ids(uow, "expired_before", PurgeUnit.TURN, bound) == \
        [old.turn.id, idle.turn.id, busy.turn.id]
    assert await ids(uow, "expired_before", PurgeUnit.FILE, bound) == \
        [old.file.id, idle.file.id, busy.file.id]
    assert await ids(uow, "expired_before", PurgeUnit.ROOM_SESSION, bound) == [old.session.id]
    assert await ids(uow, "expired_before", PurgeUnit.DIRECT_SESSION, bound) == \
        [idle.session.id]
    await trash(uow, chat=idle.session, when=at(3))  # the trash is purge_deleted's
    assert await ids(uow, "expired_before", PurgeUnit.DIRECT_SESSION, bound) == []
    assert new.turn.id not in await ids(uow, "expired_before", PurgeUnit.TURN, at(50))


async def test_summaries_written_from_old_turns(uow: Factory) -> None:
    old = await a_furnished_room(uow, when=at(0))
    chat = await a_direct_chat(uow, old.owner, when=at(0))
    fresh = await a_furnished_room(uow, owner=old.owner, when=at(60), name="Fresh")
    async with uow() as work:
        for session in (old.session, fresh.session):
            await work.sessions.update_room_session(
                replace(session, memory=Memory("what happened", session.created_at)))
        await work.sessions.update_direct_session(replace(chat.session,
                                                          memory=Memory("chat so far")))
        await work.commit()
    bound = at(40)
    assert await ids(uow, "stale_memories", PurgeUnit.ROOM_SESSION, bound) == [old.session.id]
    assert await ids(uow, "stale_memories", PurgeUnit.DIRECT_SESSION, bound) == \
        [chat.session.id]
    async with uow() as work:
        assert await work.retention.clear_memories(PurgeUnit.ROOM_SESSION,
                                                   [old.session.id, fresh.session.id]) == 2
        assert await work.retention.clear_memories(PurgeUnit.ROOM_SESSION,
                                                   [old.session.id]) == 0
        await work.commit()
    async with uow() as work:
        cleared = await work.sessions.get_room_session(old.session.id)
    assert cleared is not None and cleared.memory == Memory()
    assert await ids(uow, "stale_memories", PurgeUnit.ROOM_SESSION, bound) == []


# --- the blob queue and tombstones ---------------------------------------------------------


async def test_the_blob_queue_is_oldest_first_and_forgets(uow: Factory) -> None:
    a = await a_furnished_room(uow, name="A")
    b = await a_furnished_room(uow, owner=a.owner, name="B")
    for room, when in ((b, at(5)), (a, at(6))):
        async with uow() as work:
            await work.retention.purge(PurgeUnit.ROOM, [room.room.id], now=when,
                                       reason=PurgeReason.GRACE_PERIOD)
            await work.commit()
    async with uow() as work:
        queued = list(await work.retention.queued_blobs(limit=10))
        assert queued == sorted([b.file.blob_key, b.file.text_key or ""]) + \
            sorted([a.file.blob_key, a.file.text_key or ""])
        assert await work.retention.queued_blobs(limit=1) == queued[:1]
        await work.retention.forget_blobs(queued[:3])
        await work.retention.forget_blobs([])
        await work.commit()
    async with uow() as work:
        assert await work.retention.queued_blobs(limit=10) == queued[3:]


async def test_tombstones_are_counted_and_dropped_by_age(uow: Factory) -> None:
    first = await a_furnished_room(uow, name="R0")
    rooms = [first] + [await a_furnished_room(uow, owner=first.owner, name=f"R{i}")
                       for i in (1, 2)]
    for i, r in enumerate(rooms):
        await trash(uow, room=r.room, when=at(i))
        async with uow() as work:
            await work.retention.purge(PurgeUnit.ROOM, [r.room.id], now=at(10 + i),
                                       reason=PurgeReason.GRACE_PERIOD)
            await work.commit()
    async with uow() as work:
        assert await work.retention.count_tombstones(purged_before=at(12)) == 2
        assert await work.retention.drop_tombstones(purged_before=at(12)) == 2
        await work.commit()
    async with uow() as work:
        assert await work.retention.tombstone(TrashKind.ROOM, rooms[0].room.id) is None
        assert await work.retention.tombstone(TrashKind.ROOM, rooms[2].room.id) is not None
        assert await work.retention.count_tombstones(purged_before=at(99)) == 1


# --- concurrency ---------------------------------------------------------------------------


async def test_concurrent_purgers_purge_each_room_once(uow: Factory) -> None:
    """Workers selecting with ``lock`` and purging in their own units of work: every room is
    purged exactly once, whoever gets it, and the counts add up."""
    first = await a_furnished_room(uow, name="R0")
    for i in range(1, 8):
        await a_furnished_room(uow, owner=first.owner, name=f"R{i}")
    async with uow() as work:
        everything = await work.rooms.list_for_owner(first.owner.id, deleted=False)
        for room in everything:
            await work.rooms.update(replace(room, deleted_at=at(1)))
        await work.commit()

    async def worker() -> PurgeTally:
        done = PurgeTally()
        while True:
            async with uow() as work:
                batch = await work.retention.deleted_before(PurgeUnit.ROOM, at(10), after=None,
                                                            limit=2, lock=True)
                if not batch:
                    return done
                tally = await work.retention.purge(PurgeUnit.ROOM, [c.id for c in batch],
                                                   now=at(10), reason=PurgeReason.GRACE_PERIOD)
                await work.commit()
            done = done.plus(tally)

    tallies = await asyncio.gather(*(worker() for _ in range(3)))
    total = PurgeTally()
    for tally in tallies:
        total = total.plus(tally)
    assert (total.rows(PurgeKind.ROOMS), total.rows(PurgeKind.TURNS),
            total.rows(PurgeKind.FILES)) == (8, 8, 8)
    async with uow() as work:
        assert await work.rooms.list_for_owner(first.owner.id, deleted=True) == []
        assert len(await work.retention.queued_blobs(limit=100)) == 16
        assert await work.turns.get(TurnId(first.turn.id)) is None
