"""PostgreSQL round trips per unit of work: what a read costs, and what it must not lose.

- A unit of work that only reads sends no ``BEGIN``/``ROLLBACK`` (two round trips of every
  API read); the first write (or locking read) begins a real transaction, which stays
  atomic and holds its locks to the end. Watched from outside, through
  ``pg_stat_activity``: a connection inside a transaction is ``idle in transaction``
  between statements.
- A pooled connection is pinged before reuse only after sitting idle (not on every
  checkout): a dead idle one is replaced unnoticed; a dead one reused at once fails its
  statement once, and the pool then reconnects.
- The pool keeps its connections and opens none beyond its size (no overflow connection
  opened and closed again per request): a unit of work waits for a free one.
- Turn events appended ``alone`` (a unit of work's only write: most flushes of a running
  turn) are one statement in autocommit, without ``BEGIN`` and ``COMMIT``; after another
  write they stay in its transaction; a clash still stores nothing of the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pantheon_adapters.sql.database import Database
from pantheon_core.domain.events import EventType, TurnEvent
from pantheon_core.domain.modes import RoomMode
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.turns import Turn
from pantheon_core.domain.users import User
from pantheon_core.errors import Conflict, Unavailable
from pantheon_core.ids import RoomId, UserId
from tests.integration.contract import a_turn
from tests.integration.sql_databases import migrated_database

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[Database]:
    async with migrated_database(postgres_url) as db:
        yield db


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


async def _states(url: str) -> list[str]:
    """The states of the other sessions on this database."""
    async with await psycopg.AsyncConnection.connect(_plain(url), autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        return sorted(str(row[0]) for row in await cur.fetchall())


async def _seed(db: Database) -> tuple[UserId, RoomId]:
    user = User(id=UserId("u-1"), email="reader@example.com", created_at=NOW)
    room = Room(id=RoomId("r-1"), owner_id=user.id, name="Room", description="",
                current_mode=RoomMode.ROUNDTABLE, pending_mode=None, created_at=NOW,
                updated_at=NOW)
    async with db.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.rooms.add(room)
        await uow.commit()
    return user.id, room.id


async def test_a_unit_of_work_that_only_reads_opens_no_transaction(database: Database,
                                                                   postgres_url: str) -> None:
    user_id, room_id = await _seed(database)
    async with database.unit_of_work() as uow:
        assert (await uow.users.get(user_id)) is not None
        assert [r.id for r in await uow.rooms.list_for_owner(user_id, deleted=False)] == [room_id]
        assert await _states(postgres_url) == ["idle"]


async def test_a_write_after_reads_begins_a_transaction_that_rolls_back_unless_committed(
        database: Database, postgres_url: str) -> None:
    user_id, _ = await _seed(database)
    async with database.unit_of_work() as uow:
        assert (await uow.users.get(user_id)) is not None
        await uow.users.add(User(id=UserId("u-2"), email="second@example.com", created_at=NOW))
        assert await _states(postgres_url) == ["idle in transaction"]
        assert (await uow.users.get(UserId("u-2"))) is not None  # its own write, in the tx
    async with database.unit_of_work() as uow:
        assert (await uow.users.get(UserId("u-2"))) is None
        await uow.users.add(User(id=UserId("u-3"), email="third@example.com", created_at=NOW))
        await uow.commit()
        assert (await uow.users.get(UserId("u-3"))) is not None  # after a commit: reads again
    async with database.unit_of_work() as uow:
        assert (await uow.users.get(UserId("u-3"))) is not None


async def test_a_locking_read_after_reads_holds_its_lock_until_the_end(
        database: Database, postgres_url: str) -> None:
    user_id, room_id = await _seed(database)
    async with await psycopg.AsyncConnection.connect(_plain(postgres_url)) as other:
        async with database.unit_of_work() as uow:
            assert (await uow.users.get(user_id)) is not None
            assert (await uow.rooms.get(room_id, for_update=True)) is not None
            with pytest.raises(psycopg.errors.LockNotAvailable):
                await other.execute("SELECT id FROM rooms WHERE id = %s FOR UPDATE NOWAIT",
                                    (room_id,))
            await other.rollback()
        cur = await other.execute("SELECT id FROM rooms WHERE id = %s FOR UPDATE NOWAIT",
                                  (room_id,))
        assert (await cur.fetchone()) == (room_id,)
        await other.rollback()


async def test_a_pooled_connection_that_only_read_is_transactional_again_for_the_next_unit(
        database: Database) -> None:
    user_id, _ = await _seed(database)
    async with database.unit_of_work() as uow:  # reads in autocommit, then back to the pool
        assert (await uow.users.get(user_id)) is not None
    async with database.unit_of_work() as uow:  # the same pooled connection writes first
        await uow.users.add(User(id=UserId("u-4"), email="fourth@example.com", created_at=NOW))
    async with database.unit_of_work() as uow:
        assert (await uow.users.get(UserId("u-4"))) is None


async def _backend_pid(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(url: str, pid: int) -> None:
    async with await psycopg.AsyncConnection.connect(_plain(url), autocommit=True) as conn:
        await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def test_a_pooled_connection_that_sat_idle_is_pinged_and_replaced_if_dead(
        postgres_url: str) -> None:
    async with migrated_database(postgres_url) as migrated:
        await migrated.dispose()
    db = Database(postgres_url, ping_idle_s=0)  # every reuse counts as idle: always pinged
    try:
        await _terminate(postgres_url, await _backend_pid(db))
        async with db.unit_of_work() as uow:
            assert (await uow.users.get(UserId("nobody"))) is None
    finally:
        await db.dispose()


async def test_a_connection_reused_at_once_is_not_pinged_and_a_dead_one_fails_once(
        postgres_url: str) -> None:
    async with migrated_database(postgres_url) as migrated:
        await migrated.dispose()
    db = Database(postgres_url, ping_idle_s=3600)
    try:
        await _terminate(postgres_url, await _backend_pid(db))
        with pytest.raises(DBAPIError) as failed:
            async with db.unit_of_work() as uow:
                await uow.users.get(UserId("nobody"))
        assert failed.value.connection_invalidated
        async with db.unit_of_work() as uow:  # the pool let the dead connection go
            assert (await uow.users.get(UserId("nobody"))) is None
    finally:
        await db.dispose()


async def test_the_pool_keeps_its_connections_and_waits_instead_of_opening_more(
        postgres_url: str) -> None:
    async with migrated_database(postgres_url) as migrated:
        await migrated.dispose()
    db = Database(postgres_url, pool_size=2, pool_timeout_s=0.5)
    entered = [asyncio.Event(), asyncio.Event()]
    leave = asyncio.Event()

    async def hold(n: int) -> int:
        async with db.engine.connect() as conn:
            pid = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            entered[n].set()
            await leave.wait()
            return pid

    try:
        holders = [asyncio.create_task(hold(n)) for n in range(2)]
        for event in entered:
            await event.wait()
        with pytest.raises(Unavailable) as busy:  # a third waits, then gives up: no overflow
            async with db.unit_of_work():
                pass
        assert busy.value.code == "database_unavailable"
        assert len(await _states(postgres_url)) == 2
        leave.set()
        pids = set(await asyncio.gather(*holders))
        for _ in range(3):  # returned connections stay open and are reused, none reopened
            entered[0].clear()
            entered[1].clear()
            leave.clear()
            again = [asyncio.create_task(hold(n)) for n in range(2)]
            for event in entered:
                await event.wait()
            leave.set()
            assert set(await asyncio.gather(*again)) == pids
    finally:
        leave.set()
        await db.dispose()


async def _a_turn(db: Database) -> Turn:
    _, room_id = await _seed(db)
    async with db.unit_of_work() as uow:
        room = await uow.rooms.get(room_id)
        assert room is not None
        turn = a_turn(room, [])
        await uow.turns.add(turn)
        await uow.commit()
    return turn


def _event(turn: Turn, seq: int) -> TurnEvent:
    return TurnEvent(type=EventType.STEP_DELTA, seq=seq, turn_id=turn.id, ts=NOW,
                     data={"text": f"chunk {seq}"})


async def _seqs(db: Database, turn: Turn) -> list[int]:
    async with db.unit_of_work() as uow:
        return [e.seq for e in await uow.events.list_after(turn.id, after=0)]


async def test_events_appended_alone_are_stored_at_once_without_a_transaction(
        database: Database, postgres_url: str) -> None:
    turn = await _a_turn(database)
    async with database.unit_of_work() as uow:
        await uow.events.append([_event(turn, 1), _event(turn, 2)], alone=True)
        assert await _states(postgres_url) == ["idle"]  # no BEGIN was sent
        assert await _seqs(database, turn) == [1, 2]  # visible before the commit
        await uow.commit()  # nothing left to commit
    assert await _seqs(database, turn) == [1, 2]


async def test_events_appended_alone_after_a_write_stay_in_its_transaction(
        database: Database) -> None:
    turn = await _a_turn(database)
    async with database.unit_of_work() as uow:
        await uow.turns.touch(turn.id, last_seq=2, heartbeat_at=NOW)
        await uow.events.append([_event(turn, 1), _event(turn, 2)], alone=True)
        # leaving without commit rolls both back
    assert await _seqs(database, turn) == []


async def test_a_clash_appended_alone_stores_nothing_of_its_batch(database: Database) -> None:
    turn = await _a_turn(database)
    async with database.unit_of_work() as uow:
        await uow.events.append([_event(turn, 2)], alone=True)
    async with database.unit_of_work() as uow:
        with pytest.raises(Conflict):
            await uow.events.append([_event(turn, 1), _event(turn, 2), _event(turn, 3)],
                                    alone=True)
        await uow.events.append([_event(turn, 3)], alone=True)  # still usable
    assert await _seqs(database, turn) == [2, 3]
