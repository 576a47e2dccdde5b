"""Core use cases end to end on the real SQL adapter, on SQLite and PostgreSQL.

The unit tests prove the rules on the fake; these prove the rules survive a real
database: transactions, row locks, constraints and concurrent callers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from pantheon_adapters.events.memory import InProcessTurnEvents
from pantheon_adapters.sql.database import Database
from pantheon_adapters.tasks.inprocess import InProcessTasks
from pantheon_core.actor import Actor, Role
from pantheon_core.domain.modes import RoomMode, TurnMode
from pantheon_core.domain.rooms import Room
from pantheon_core.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from pantheon_core.ids import RoomId
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import Deps
from tests.fake_chat import FakeChatModel, Reply
from tests.fakes import FAST_ENGINE, AllowAllLimiter, FakeClock, FakeMailer
from tests.integration.sql_databases import migrated_database


@dataclass
class SqlApp:
    database: Database
    clock: FakeClock
    mailer: FakeMailer
    chat: FakeChatModel
    tasks: InProcessTasks
    uc: UseCases


@pytest.fixture
async def sql_app(database_url: str) -> AsyncIterator[SqlApp]:
    async with migrated_database(database_url) as database:
        clock, mailer, chat, tasks = FakeClock(), FakeMailer(), FakeChatModel(), InProcessTasks()
        deps = Deps(uow=database.unit_of_work, clock=clock, mailer=mailer,
                    limiter=AllowAllLimiter(), chat=chat, events=InProcessTurnEvents(),
                    tasks=tasks, engine=FAST_ENGINE)
        yield SqlApp(database, clock, mailer, chat, tasks, UseCases.build(deps))
        await tasks.aclose()


async def room_with_agents(app: SqlApp, actor: Actor, *names: str) -> Room:
    room = await app.uc.create_room(actor, name="Research")
    for name in names:
        await app.uc.add_agent(actor, room.id, name=name, model_alias="qwen")
    return room


async def test_rooms_agents_modes_and_turns(sql_app: SqlApp) -> None:
    uc = sql_app.uc
    ada = await uc.act_as(Actor.operator(), "ada@example.com")
    room = await room_with_agents(sql_app, ada, "Ana", "Bo")
    with pytest.raises(Conflict) as duplicate:
        await uc.add_agent(ada, room.id, name="ANA", model_alias="llama")
    assert duplicate.value.code == "duplicate_agent_name"

    await uc.edit_agent(ada, room.id, "bo", role_prompt="Be brief.", web_search=True, position=0)
    assert [a.name for a in await uc.list_agents(ada, room.id)] == ["Bo", "Ana"]
    await uc.remove_agent(ada, room.id, "Ana")
    await uc.add_agent(ada, room.id, name="ana", model_alias="deepseek")  # the name is free again

    pending = await uc.request_mode(ada, room.id, "manual")
    assert (pending.current_mode, pending.pending_mode) == (RoomMode.ROUNDTABLE, RoomMode.MANUAL)
    with pytest.raises(InvalidInput) as untagged:
        await uc.begin_turn(ada, room.id, "Hello, everyone")
    assert untagged.value.code == "no_valid_tags"
    assert (await uc.get_room(ada, room.id)).room.pending_mode is RoomMode.MANUAL

    turn = await uc.begin_turn(ada, room.id, "@bo what changed?")
    detail = await uc.get_room(ada, room.id)
    assert (detail.room.current_mode, detail.room.pending_mode) == (RoomMode.MANUAL, None)
    bo = next(a for a in detail.agents if a.name == "Bo")
    assert turn.mode is TurnMode.MANUAL and turn.selected == (bo.id,)
    assert (await uc.get_turn(ada, turn.id)).turn == turn
    assert [a.name for a in turn.roster] == ["Bo", "ana"]
    assert turn.roster[0].tools.web_search and turn.roster[0].role_prompt == "Be brief."
    assert [e.turn for e in (await uc.list_timeline(ada, room_id=room.id)).entries] == [turn]


async def test_rooms_delete_restore_and_belong_to_their_owner(sql_app: SqlApp) -> None:
    uc = sql_app.uc
    ada = await uc.act_as(Actor.operator(), "ada@example.com")
    eve = await uc.act_as(Actor.operator(), "eve@example.com")
    room = await room_with_agents(sql_app, ada, "Ana")
    assert await uc.list_rooms(eve) == []
    await uc.delete_room(ada, room.id)
    assert await uc.list_rooms(ada) == []
    assert [r.id for r in await uc.list_rooms(ada, deleted=True)] == [room.id]
    sql_app.clock.advance(days=6)
    restored = await uc.restore_room(ada, room.id)
    assert restored.deleted_at is None
    assert await uc.find_room(ada, "research") == restored


async def test_sign_in_sessions_tokens_roles_and_purge(sql_app: SqlApp) -> None:
    uc = sql_app.uc
    await uc.request_magic_link("Ada@Example.com", client="127.0.0.1")
    token = sql_app.mailer.last_link_token()
    signed_in = await uc.verify_magic_link(token)
    assert signed_in.user.email == "ada@example.com"
    with pytest.raises(Unauthenticated) as reused:
        await uc.verify_magic_link(token)
    assert reused.value.code == "magic_link_used"

    actor = await uc.authenticate_session(signed_in.session_token)
    issued = await uc.create_api_token(actor, name="laptop")
    assert (await uc.authenticate_api_token(issued.secret)).user_id == actor.user_id
    assert [t.last_used_at for t in await uc.list_api_tokens(actor)] == [sql_app.clock.now()]
    await uc.revoke_api_token(actor, issued.token.id)
    with pytest.raises(Unauthenticated):
        await uc.authenticate_api_token(issued.secret)

    await uc.set_role(Actor.operator(), "ada@example.com", "owner", granted=True)
    assert [p.user.email for p in await uc.list_admins(Actor.operator())] == ["ada@example.com"]
    await uc.logout(signed_in.session_token)
    with pytest.raises(Unauthenticated):
        await uc.authenticate_session(signed_in.session_token)
    sql_app.clock.advance(days=31)
    assert await uc.purge_expired_credentials() == 2  # the used link, the ended session


async def test_credentials_authenticate_with_roles_and_refuse_suspended_users(
        sql_app: SqlApp) -> None:
    """A token or a session is read with its user and roles (one statement); a token's use
    is recorded at most once a minute, and not when its user is suspended."""
    uc, clock = sql_app.uc, sql_app.clock
    await uc.request_magic_link("ada@example.com", client="127.0.0.1")
    signed_in = await uc.verify_magic_link(sql_app.mailer.last_link_token())
    await uc.set_role(Actor.operator(), "ada@example.com", "analyst", granted=True)
    ada = await uc.authenticate_session(signed_in.session_token)
    assert ada.user_id == signed_in.user.id and ada.roles == {Role.ANALYST}
    issued = await uc.create_api_token(ada, name="ci")

    async def last_used() -> object:
        return [t.last_used_at for t in await uc.list_api_tokens(ada)]

    first = clock.now()
    assert (await uc.authenticate_api_token(issued.secret)).roles == {Role.ANALYST}
    clock.advance(seconds=60)
    await uc.authenticate_api_token(issued.secret)
    assert await last_used() == [first]  # not again within the minute
    clock.advance(seconds=1)
    await uc.authenticate_api_token(issued.secret)
    assert await last_used() == [clock.now()]

    await uc.admin_set_user_status(Actor.operator(), "ada@example.com", suspended=True,
                                   reason="abuse report")
    clock.advance(minutes=5)
    for authenticate, secret in ((uc.authenticate_api_token, issued.secret),
                                 (uc.authenticate_session, signed_in.session_token)):
        with pytest.raises(Forbidden) as refused:
            await authenticate(secret)
        assert refused.value.code == "account_suspended"
    assert await last_used() == [first + timedelta(seconds=61)]
    with pytest.raises(Unauthenticated) as unknown:
        await uc.authenticate_api_token("pan_unknown")
    assert unknown.value.code == "invalid_token"


async def test_concurrent_sends_queue_on_the_room_and_consume_the_pending_mode_once(
        sql_app: SqlApp) -> None:
    uc = sql_app.uc
    ada = await uc.act_as(Actor.operator(), "ada@example.com")
    room = await room_with_agents(sql_app, ada, "Ana", "Bo")
    await uc.request_mode(ada, room.id, "orchestrator")

    turns = await asyncio.gather(*(uc.begin_turn(ada, room.id, f"Question {i}")
                                   for i in range(4)))

    assert [t.mode for t in turns] == [TurnMode.ORCHESTRATOR] * 4
    after = (await uc.get_room(ada, room.id)).room
    assert (after.current_mode, after.pending_mode) == (RoomMode.ORCHESTRATOR, None)
    assert len((await uc.list_timeline(ada, room_id=room.id)).entries) == 4


async def test_a_locking_read_waits_for_the_unit_holding_the_room(sql_app: SqlApp) -> None:
    uc, database = sql_app.uc, sql_app.database
    ada = await uc.act_as(Actor.operator(), "ada@example.com")
    room = await uc.create_room(ada, name="Research")

    async def read_locked() -> Room | None:
        async with database.unit_of_work() as uow:
            return await uow.rooms.get(RoomId(room.id), for_update=True)

    async with database.unit_of_work() as first:
        locked = await first.rooms.get(RoomId(room.id), for_update=True)
        assert locked is not None
        second = asyncio.create_task(read_locked())
        await asyncio.sleep(0.3)
        assert not second.done()  # it must not read the pending mode we are about to consume
        await first.rooms.update(locked.request_mode(RoomMode.MANUAL, sql_app.clock.now()))
        await first.commit()
    seen = await asyncio.wait_for(second, timeout=10)
    assert seen is not None and seen.pending_mode is RoomMode.MANUAL


async def test_a_magic_link_verified_concurrently_signs_in_once(sql_app: SqlApp) -> None:
    await sql_app.uc.request_magic_link("ada@example.com", client="127.0.0.1")
    token = sql_app.mailer.last_link_token()

    outcomes = await asyncio.gather(*(sql_app.uc.verify_magic_link(token) for _ in range(3)),
                                    return_exceptions=True)

    codes = sorted(getattr(o, "code", "signed_in") for o in outcomes)
    assert codes == ["magic_link_used", "magic_link_used", "signed_in"]


async def test_an_api_token_used_concurrently_authenticates_every_caller(
        sql_app: SqlApp) -> None:
    ada = await sql_app.uc.act_as(Actor.operator(), "ada@example.com")
    issued = await sql_app.uc.create_api_token(ada, name="ci")

    actors = await asyncio.gather(*(sql_app.uc.authenticate_api_token(issued.secret)
                                    for _ in range(4)))

    assert {a.user_id for a in actors} == {ada.user_id}


async def test_a_turn_runs_end_to_end_on_the_database(sql_app: SqlApp) -> None:
    """Events, steps, usage rows and the turn outcome all land in the real database."""
    uc = sql_app.uc
    ada = await uc.act_as(Actor.operator(), "ada@example.com")
    room = await room_with_agents(sql_app, ada, "Ana", "Bo")
    sql_app.chat.queue("worker", Reply("first answer", chunk_delay_s=0.01), Reply("second"))
    turn = await uc.send_to_room(ada, room.id, "Hello there")
    stream = await uc.stream_turn_events(ada, turn.id)
    live = [event async for event in stream]
    await sql_app.tasks.wait_idle()
    stored = [event async for event in await uc.stream_turn_events(ada, turn.id)]
    assert stored == live
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    view = await uc.get_turn(ada, turn.id)
    assert view.turn.status.value == "completed"
    assert [s["content"] for s in view.timeline.to_dict()["steps"]] == ["first answer", "second"]
    page = await uc.list_timeline(ada, room_id=room.id)
    (entry,) = page.entries
    assert [s.status.value for s in entry.steps] == ["ok", "ok"]
    async with sql_app.database.unit_of_work() as uow:
        calls = await uow.usage.list_for_turn(turn.id)
    assert len(calls) == 2 == len(sql_app.chat.requests)
    assert sum(c.credits_burned for c in calls) == view.turn.credits
