"""Another user's room is "not found" for every use case, and nothing of it changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pantheon_core.actor import Actor
from pantheon_core.errors import NotFound, Unauthenticated
from tests.fakes import FakeApp
from tests.unit.helpers import room_with_agents, sign_up

Call = Callable[[FakeApp, Actor, str, str], Awaitable[Any]]

CALLS: dict[str, Call] = {
    "get_room": lambda app, b, room, agent: app.uc.get_room(b, room),
    "find_room": lambda app, b, room, agent: app.uc.find_room(b, room),
    "update_room": lambda app, b, room, agent: app.uc.update_room(b, room, name="Mine"),
    "request_mode": lambda app, b, room, agent: app.uc.request_mode(b, room, "manual"),
    "delete_room": lambda app, b, room, agent: app.uc.delete_room(b, room),
    "restore_room": lambda app, b, room, agent: app.uc.restore_room(b, room),
    "list_agents": lambda app, b, room, agent: app.uc.list_agents(b, room),
    "add_agent": lambda app, b, room, agent: app.uc.add_agent(b, room, name="Spy",
                                                              model_alias="qwen"),
    "edit_agent": lambda app, b, room, agent: app.uc.edit_agent(b, room, agent, name="Spy"),
    "remove_agent": lambda app, b, room, agent: app.uc.remove_agent(b, room, agent),
    "reorder_agents": lambda app, b, room, agent: app.uc.reorder_agents(b, room, [agent]),
    "begin_turn": lambda app, b, room, agent: app.uc.begin_turn(b, room, "@Scout hi"),
    "list_timeline": lambda app, b, room, agent: app.uc.list_timeline(b, room_id=room),
    "send_to_room": lambda app, b, room, agent: app.uc.send_to_room(b, room, "@Scout hi"),
    "start_room_session": lambda app, b, room, agent: app.uc.start_room_session(b, room),
    "list_room_sessions": lambda app, b, room, agent: app.uc.list_room_sessions(b, room),
    "create_direct_session": lambda app, b, room, agent: app.uc.create_direct_session(
        b, room_id=room, agent_ref=agent),
}


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_another_users_room_is_not_found(app: FakeApp, name: str) -> None:
    alice = await sign_up(app, "alice@example.com")
    bob = await sign_up(app, "bob@example.com")
    room = await room_with_agents(app, alice, "Scout")
    agent = next(iter(app.store.agents.values()))
    before = (dict(app.store.rooms), dict(app.store.agents), dict(app.store.turns))
    with pytest.raises(NotFound) as err:
        await CALLS[name](app, bob, room.id, agent.id)
    assert err.value.code == "room_not_found"
    assert (app.store.rooms, app.store.agents, app.store.turns) == before


async def test_another_users_turn_is_not_found(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    bob = await sign_up(app, "bob@example.com")
    room = await room_with_agents(app, alice, "Scout")
    turn = await app.uc.begin_turn(alice, room.id, "hello")
    with pytest.raises(NotFound):
        await app.uc.get_turn(bob, turn.id)


async def test_room_use_cases_need_a_user(app: FakeApp) -> None:
    with pytest.raises(Unauthenticated) as err:
        await app.uc.list_rooms(Actor.operator())
    assert err.value.code == "user_required"
