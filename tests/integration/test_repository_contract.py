"""The repository and unit-of-work contract, run on the fake, SQLite and PostgreSQL.

The same tests against every implementation: if the fake and the real adapter disagree,
one of them is wrong, and the core's unit tests (which run on the fake) would lie. The
``uow`` fixture (in ``conftest.py``) runs each test once per implementation; the
conversation repositories' contract is in ``test_conversation_contract.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pantheon_core.actor import Role
from pantheon_core.domain.agents import ToolPermissions
from pantheon_core.domain.credentials import ApiToken, AuthSession, MagicLink
from pantheon_core.domain.modes import RoomMode
from pantheon_core.domain.turns import AgentSnapshot, TurnStatus
from pantheon_core.domain.users import UserStatus
from pantheon_core.errors import Conflict
from pantheon_core.ids import (
    AgentId,
    ApiTokenId,
    MagicLinkId,
    RoomId,
    SessionId,
    TurnId,
    UserId,
    new_id,
)
from tests.integration.contract import (
    T0,
    Factory,
    a_room,
    a_turn,
    a_user,
    an_agent,
    seed,
)

# --- units of work -------------------------------------------------------------------


async def test_leaving_without_commit_leaves_nothing(uow: Factory) -> None:
    user = a_user()
    async with uow() as work:
        await work.users.add(user)
        assert await work.users.get(user.id) == user
    async with uow() as work:
        assert await work.users.get(user.id) is None


async def test_an_exception_rolls_back_and_propagates(uow: Factory) -> None:
    user = a_user()

    async def failing_use_case() -> None:
        async with uow() as work:
            await work.users.add(user)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing_use_case()
    async with uow() as work:
        assert await work.users.get_by_email(user.email) is None


async def test_committed_work_is_visible_to_the_next_unit(uow: Factory) -> None:
    user = a_user()
    async with uow() as work:
        await work.users.add(user)
        await work.commit()
        assert await work.users.get(user.id) == user  # still usable after commit
    async with uow() as work:
        assert await work.users.get(user.id) == user


async def test_uncommitted_work_is_invisible_to_a_concurrent_unit(uow: Factory) -> None:
    user = a_user()
    async with uow() as writer:
        await writer.users.add(user)
        async with uow() as reader:
            assert await reader.users.get(user.id) is None
        await writer.commit()
    async with uow() as reader:
        assert await reader.users.get(user.id) == user


async def test_explicit_rollback_discards_work(uow: Factory) -> None:
    user = a_user()
    async with uow() as work:
        await work.users.add(user)
        await work.rollback()
        await work.commit()
    async with uow() as work:
        assert await work.users.get(user.id) is None


# --- users ---------------------------------------------------------------------------


async def test_user_add_get_update_and_by_email(uow: Factory) -> None:
    user = a_user()
    await seed(uow, user)
    async with uow() as work:
        assert await work.users.get(user.id) == user
        assert await work.users.get_by_email("ada@example.com") == user
        assert await work.users.get_by_email("bob@example.com") is None
        assert await work.users.get(UserId(new_id())) is None
        changed = replace(user.with_status(UserStatus.SUSPENDED), display_name="Ada L.")
        await work.users.update(changed)
        await work.commit()
    async with uow() as work:
        assert await work.users.get(user.id) == changed


async def test_email_clash_is_conflict_email_taken_and_the_unit_stays_usable(
        uow: Factory) -> None:
    await seed(uow, a_user("ada@example.com"))
    other = a_user("bob@example.com")
    async with uow() as work:
        with pytest.raises(Conflict) as caught:
            await work.users.add(a_user("ada@example.com"))
        assert caught.value.code == "email_taken"
        await work.users.add(other)
        await work.commit()
    async with uow() as work:
        assert await work.users.get(other.id) == other


async def test_changing_to_a_taken_email_is_conflict_email_taken(uow: Factory,
                                                                  is_fake: bool) -> None:
    ada, bob = a_user("ada@example.com"), a_user("bob@example.com")
    await seed(uow, ada, bob)
    async with uow() as work:
        with pytest.raises(Conflict) as caught:
            await work.users.update(replace(bob, email="ada@example.com"))
        assert caught.value.code == "email_taken"
        assert await work.users.get(bob.id) == bob


async def test_roles_are_idempotent_and_admins_listed_by_email(uow: Factory) -> None:
    zoe, ada, bob = a_user("zoe@example.com"), a_user("ada@example.com"), a_user("bob@x.io")
    await seed(uow, zoe, ada, bob)
    async with uow() as work:
        for _ in range(2):
            await work.users.set_role(zoe.id, Role.OWNER, granted=True, now=T0)
        await work.users.set_role(zoe.id, Role.ANALYST, granted=True, now=T0)
        await work.users.set_role(ada.id, Role.ANALYST, granted=True, now=T0)
        await work.users.set_role(ada.id, Role.OWNER, granted=False, now=T0)
        await work.commit()
    async with uow() as work:
        assert await work.users.roles_of(zoe.id) == {Role.OWNER, Role.ANALYST}
        assert await work.users.roles_of(bob.id) == frozenset()
        assert await work.users.get_with_roles(zoe.id) == (zoe, {Role.OWNER, Role.ANALYST})
        assert await work.users.get_with_roles(bob.id) == (bob, frozenset())
        assert await work.users.get_with_roles(UserId("nobody")) is None
        assert await work.users.list_with_roles() == [
            (ada, frozenset({Role.ANALYST})), (zoe, frozenset({Role.OWNER, Role.ANALYST})),
        ]
        await work.users.set_role(zoe.id, Role.OWNER, granted=False, now=T0)
        await work.commit()
    async with uow() as work:
        assert await work.users.roles_of(zoe.id) == {Role.ANALYST}


async def test_identities_link_and_find_users(uow: Factory) -> None:
    ada, bob = a_user("ada@example.com"), a_user("bob@example.com")
    await seed(uow, ada, bob)
    async with uow() as work:
        assert await work.users.find_by_identity("supabase", "sub-1") is None
        await work.users.link_identity(ada.id, "supabase", "sub-1", T0)
        await work.users.link_identity(bob.id, "supabase", "sub-2", T0)
        await work.commit()
    async with uow() as work:
        assert await work.users.find_by_identity("supabase", "sub-1") == ada
        assert await work.users.find_by_identity("supabase", "sub-2") == bob
        assert await work.users.find_by_identity("other", "sub-1") is None


# --- rooms ---------------------------------------------------------------------------


async def test_room_add_get_update_and_get_for_update(uow: Factory) -> None:
    owner = a_user()
    room = a_room(owner)
    await seed(uow, owner, rooms=(room,))
    async with uow() as work:
        locked = await work.rooms.get(room.id, for_update=True)
        assert locked == room
        changed = locked.request_mode(RoomMode.MANUAL, T0 + timedelta(minutes=1))
        await work.rooms.update(changed)
        await work.commit()
    async with uow() as work:
        assert await work.rooms.get(room.id) == changed
        assert changed.pending_mode is RoomMode.MANUAL
        assert await work.rooms.get(RoomId(new_id()), for_update=True) is None


async def test_rooms_list_most_recently_updated_first(uow: Factory) -> None:
    owner, stranger = a_user(), a_user("eve@example.com")
    old, new, gone = (a_room(owner, "Old"), a_room(owner, "New", T0 + timedelta(hours=1)),
                      a_room(owner, "Gone"))
    theirs = a_room(stranger, "Theirs")
    await seed(uow, owner, stranger, rooms=(old, new, gone, theirs))
    async with uow() as work:
        gone = gone.soft_deleted(T0 + timedelta(hours=2))
        await work.rooms.update(gone)
        await work.commit()
    async with uow() as work:
        assert await work.rooms.list_for_owner(owner.id, deleted=False) == [new, old]
        assert await work.rooms.list_for_owner(owner.id, deleted=True) == [gone]
        assert await work.rooms.list_for_owner(stranger.id, deleted=False) == [theirs]


# --- agents --------------------------------------------------------------------------


async def test_agents_listed_by_position_without_removed_ones(uow: Factory) -> None:
    owner = a_user()
    room, other_room = a_room(owner), a_room(owner, "Other")
    await seed(uow, owner, rooms=(room, other_room))
    ana, bo, cy = an_agent(room, "Ana", 2), an_agent(room, "Bo", 0), an_agent(room, "Cy", 1)
    async with uow() as work:
        for agent in (ana, bo, cy, an_agent(other_room, "Ana", 0)):
            await work.agents.add(agent)
        await work.commit()
    async with uow() as work:
        assert await work.agents.get(ana.id) == ana
        assert await work.agents.get(AgentId(new_id())) is None
        assert await work.agents.list_active(room.id) == [bo, cy, ana]
        cy = cy.removed(T0 + timedelta(minutes=1))
        ana = replace(ana.edited(T0 + timedelta(minutes=1), name="Anna",
                                 tools=ToolPermissions(files=True)), position=1)
        await work.agents.update(cy)
        await work.agents.update(ana)
        await work.commit()
    async with uow() as work:
        assert await work.agents.list_active(room.id) == [bo, ana]
        assert await work.agents.get(cy.id) == cy


async def test_live_agent_names_are_unique_ignoring_case(uow: Factory, is_fake: bool) -> None:
    owner = a_user()
    room, other_room = a_room(owner), a_room(owner, "Other")
    await seed(uow, owner, rooms=(room, other_room))
    first = an_agent(room, "Ana", 0)
    async with uow() as work:
        await work.agents.add(first)
        await work.agents.add(an_agent(other_room, "ANA", 0))  # another room: fine
        await work.commit()
    async with uow() as work:
        with pytest.raises(Conflict) as caught:
            await work.agents.add(an_agent(room, "aNA", 1))
        assert caught.value.code == "duplicate_agent_name"
        bo = an_agent(room, "Bo", 1)
        await work.agents.add(bo)  # the unit of work survives the conflict
        with pytest.raises(Conflict) as renamed:
            await work.agents.update(replace(bo, name="ana"))
        assert renamed.value.code == "duplicate_agent_name"
        await work.agents.update(first.removed(T0))
        again = an_agent(room, "ana", 0)
        await work.agents.add(again)  # a removed agent frees its name
        await work.commit()
    async with uow() as work:
        assert [a.name for a in await work.agents.list_active(room.id)] == ["ana", "Bo"]


# --- turns ---------------------------------------------------------------------------


async def test_turn_round_trips_its_roster_snapshot(uow: Factory) -> None:
    owner = a_user()
    room = a_room(owner)
    await seed(uow, owner, rooms=(room,))
    agents = [an_agent(room, "Ana", 0), replace(an_agent(room, "Bo", 1),
                                                  tools=ToolPermissions(files=True),
                                                  role_prompt="Ünïcödé ✓ \"quoted\"")]
    turn = a_turn(room, agents)
    async with uow() as work:
        await work.turns.add(turn)
        await work.commit()
    async with uow() as work:
        loaded = await work.turns.get(turn.id)
        assert loaded == turn
        assert loaded is not None and isinstance(loaded.roster[1], AgentSnapshot)
        assert await work.turns.get(TurnId(new_id())) is None
        done = replace(turn, status=TurnStatus.COMPLETED, finished_at=T0 + timedelta(seconds=9))
        await work.turns.update(done)
        await work.commit()
    async with uow() as work:
        assert await work.turns.get(turn.id) == done


async def test_turns_listed_newest_first_with_a_limit(uow: Factory) -> None:
    owner = a_user()
    room, other = a_room(owner), a_room(owner, "Other")
    await seed(uow, owner, rooms=(room, other))
    turns = [a_turn(room, [], T0 + timedelta(minutes=i)) for i in range(4)]
    async with uow() as work:
        for turn in [*turns, a_turn(other, [])]:
            await work.turns.add(turn)
        await work.commit()
    async with uow() as work:
        assert await work.turns.list_for_room(room.id, limit=3) == turns[::-1][:3]


# --- credentials ---------------------------------------------------------------------


def a_link(email: str = "ada@example.com", at: datetime = T0) -> MagicLink:
    return MagicLink(id=MagicLinkId(new_id()), email=email, token_hash=new_id(), created_at=at,
                     expires_at=at + timedelta(minutes=15))


async def test_a_magic_link_is_consumed_once(uow: Factory) -> None:
    link = a_link()
    async with uow() as work:
        await work.credentials.add_magic_link(link)
        await work.commit()
    async with uow() as work:
        assert await work.credentials.get_magic_link(link.token_hash) == link
        assert await work.credentials.get_magic_link("nope") is None
        assert await work.credentials.consume_magic_link(link.id, T0) is True
        assert await work.credentials.consume_magic_link(link.id, T0) is False
        await work.commit()
    async with uow() as work:
        assert await work.credentials.consume_magic_link(link.id, T0) is False
        stored = await work.credentials.get_magic_link(link.token_hash)
        assert stored == replace(link, used_at=T0)


async def test_concurrent_consumers_of_a_magic_link_see_one_true(uow: Factory,
                                                                 is_fake: bool) -> None:
    if is_fake:
        pytest.skip("the fake has no concurrency control: each unit works on a private copy")
    link = a_link()
    async with uow() as work:
        await work.credentials.add_magic_link(link)
        await work.commit()

    async def consume() -> bool:
        async with uow() as work:
            won = await work.credentials.consume_magic_link(link.id, T0)
            await asyncio.sleep(0.05)  # hold the row while the other one tries
            await work.commit()
            return won

    assert sorted(await asyncio.gather(consume(), consume())) == [False, True]


async def test_sessions_add_get_and_revoke(uow: Factory) -> None:
    user = a_user()
    await seed(uow, user)
    session = AuthSession(id=SessionId(new_id()), user_id=user.id, token_hash="h" * 64,
                          created_at=T0, expires_at=T0 + timedelta(days=30))
    async with uow() as work:
        await work.credentials.add_session(session)
        await work.commit()
    async with uow() as work:
        assert await work.credentials.get_session(session.token_hash) == session
        assert await work.credentials.get_session("other") is None
        await work.credentials.update_session(session.revoked(T0 + timedelta(hours=1)))
        await work.commit()
    async with uow() as work:
        stored = await work.credentials.get_session(session.token_hash)
        assert stored is not None and stored.revoked_at == T0 + timedelta(hours=1)


async def test_api_tokens_listed_newest_first_revoked_included(uow: Factory) -> None:
    user, other = a_user(), a_user("bob@example.com")
    await seed(uow, user, other)
    tokens = [ApiToken(id=ApiTokenId(new_id()), user_id=user.id, name=f"t{i}",
                       token_hash=f"{i}" * 64, hint="pan_…abcd", created_at=T0 + timedelta(i),
                       expires_at=None if i else T0 + timedelta(days=90)) for i in range(3)]
    async with uow() as work:
        for token in tokens:
            await work.credentials.add_api_token(token)
        await work.commit()
    async with uow() as work:
        assert await work.credentials.get_api_token(tokens[0].id) == tokens[0]
        assert await work.credentials.get_api_token_with_user("1" * 64) == (
            tokens[1], user, frozenset())
        assert await work.credentials.get_api_token_with_user("x") is None
        used = replace(tokens[1].revoked(T0 + timedelta(days=5)),
                       last_used_at=T0 + timedelta(days=4))
        await work.credentials.update_api_token(used)
        await work.commit()
    async with uow() as work:
        assert await work.credentials.list_api_tokens(user.id) == [tokens[2], used, tokens[0]]
        assert await work.credentials.list_api_tokens(other.id) == []


async def test_a_credential_comes_with_its_user_and_roles_in_one_lookup(uow: Factory) -> None:
    """What authenticating a request reads: a token (or session) by hash, its user as
    stored (a suspended one too) and the user's stored roles; revoked and expired
    credentials too (the use case refuses them)."""
    zoe, bob = a_user("zoe@example.com"), a_user("bob@example.com")
    bob = replace(bob, status=UserStatus.SUSPENDED, display_name="Bob")
    await seed(uow, zoe, bob)
    token = ApiToken(id=ApiTokenId(new_id()), user_id=zoe.id, name="ci", token_hash="z" * 64,
                     hint="pan_…zzzz", created_at=T0, expires_at=T0 + timedelta(days=1),
                     last_used_at=T0 + timedelta(hours=1))
    revoked = replace(token, id=ApiTokenId(new_id()), user_id=bob.id, token_hash="b" * 64,
                      expires_at=None, last_used_at=None, revoked_at=T0 + timedelta(hours=2))
    session = AuthSession(id=SessionId(new_id()), user_id=zoe.id, token_hash="s" * 64,
                          created_at=T0, expires_at=T0 + timedelta(days=30))
    ended = replace(session, id=SessionId(new_id()), user_id=bob.id, token_hash="e" * 64,
                    expires_at=T0 + timedelta(days=1), revoked_at=T0 + timedelta(hours=3))
    async with uow() as work:
        for role in (Role.OWNER, Role.ANALYST):
            await work.users.set_role(zoe.id, role, granted=True, now=T0)
        for credential in (token, revoked):
            await work.credentials.add_api_token(credential)
        for auth in (session, ended):
            await work.credentials.add_session(auth)
        await work.commit()
    async with uow() as work:
        both = frozenset({Role.OWNER, Role.ANALYST})
        assert await work.credentials.get_api_token_with_user(token.token_hash) == (
            token, zoe, both)
        assert await work.credentials.get_api_token_with_user(revoked.token_hash) == (
            revoked, bob, frozenset())
        assert await work.credentials.get_api_token_with_user(session.token_hash) is None
        assert await work.credentials.get_session_with_user(session.token_hash) == (
            session, zoe, both)
        assert await work.credentials.get_session_with_user(ended.token_hash) == (
            ended, bob, frozenset())
        assert await work.credentials.get_session_with_user(token.token_hash) is None


async def test_purge_expired_removes_used_or_expired_links_and_expired_sessions(
        uow: Factory) -> None:
    user = a_user()
    await seed(uow, user)
    now = T0 + timedelta(hours=1)
    fresh, expired, used = a_link(at=now), a_link(), replace(a_link(at=now), used_at=now)
    live = AuthSession(id=SessionId(new_id()), user_id=user.id, token_hash="live",
                       created_at=T0, expires_at=now + timedelta(days=1))
    dead = replace(live, id=SessionId(new_id()), token_hash="dead", expires_at=now)
    async with uow() as work:
        for link in (fresh, expired, used):
            await work.credentials.add_magic_link(link)
        for session in (live, dead):
            await work.credentials.add_session(session)
        await work.commit()
    async with uow() as work:
        assert await work.credentials.purge_expired(now) == 3
        await work.commit()
    async with uow() as work:
        assert await work.credentials.get_magic_link(fresh.token_hash) == fresh
        assert await work.credentials.get_magic_link(expired.token_hash) is None
        assert await work.credentials.get_magic_link(used.token_hash) is None
        assert await work.credentials.get_session("live") == live
        assert await work.credentials.get_session("dead") is None
        assert await work.credentials.purge_expired(now) == 0


# --- values --------------------------------------------------------------------------


async def test_timestamps_come_back_aware_and_exact(uow: Factory) -> None:
    plus_two = timezone(timedelta(hours=2))
    at = datetime(2026, 3, 29, 2, 30, 15, 123456, tzinfo=plus_two)
    user = a_user(at=at)
    room = replace(a_room(user, at=at), deleted_at=datetime(2027, 1, 1, tzinfo=UTC))
    await seed(uow, user, rooms=(room,))
    async with uow() as work:
        loaded_user = await work.users.get(user.id)
        loaded_room = await work.rooms.get(room.id)
    assert loaded_user is not None and loaded_room is not None
    for value in (loaded_user.created_at, loaded_room.updated_at, loaded_room.deleted_at):
        assert value is not None and value.utcoffset() is not None
    assert loaded_user.created_at == at
    assert loaded_room == room
