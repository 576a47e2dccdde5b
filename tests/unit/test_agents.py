from __future__ import annotations

import pytest

from pantheon_core.domain.agents import MAX_AGENTS_PER_ROOM
from pantheon_core.errors import Conflict, InvalidInput, NotFound
from tests.fakes import FakeApp
from tests.unit.helpers import room_with_agents, sign_up


async def test_add_agents_in_order_with_their_fields(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await app.uc.create_room(alice, name="R")
    a = await app.uc.add_agent(alice, room.id, name="Scout", model_alias="LLAMA",
                               role_prompt="  Find sources. ", web_search=True)
    b = await app.uc.add_agent(alice, room.id, name="Critic", model_alias="premium", files=True)
    assert (a.model_alias.value, a.role_prompt, a.tools.web_search, a.tools.files) == \
        ("llama", "Find sources.", True, False)
    assert [x.name for x in await app.uc.list_agents(alice, room.id)] == ["Scout", "Critic"]
    assert (a.position, b.position) == (0, 1)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "", "model_alias": "qwen"}, "invalid_agent_name"),
        ({"name": "has space", "model_alias": "qwen"}, "invalid_agent_name"),
        ({"name": "9lives", "model_alias": "qwen"}, "invalid_agent_name"),
        ({"name": "x" * 33, "model_alias": "qwen"}, "invalid_agent_name"),
        ({"name": "Ok", "model_alias": "gpt-4"}, "unknown_model_alias"),
        ({"name": "Ok", "model_alias": "qwen", "role_prompt": "p" * 4001}, "role_prompt_too_long"),
    ],
)
async def test_invalid_agents_are_refused_and_nothing_changes(app: FakeApp, fields: dict[str, str],
                                                              code: str) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await app.uc.create_room(alice, name="R")
    with pytest.raises(InvalidInput) as err:
        await app.uc.add_agent(alice, room.id, **fields)
    assert err.value.code == code
    assert app.store.agents == {}


async def test_names_are_unique_per_room_regardless_of_case(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout")
    with pytest.raises(Conflict) as err:
        await app.uc.add_agent(alice, room.id, name="SCOUT", model_alias="qwen")
    assert err.value.code == "duplicate_agent_name"
    other = await app.uc.create_room(alice, name="Other")
    await app.uc.add_agent(alice, other.id, name="scout", model_alias="qwen")


async def test_renaming_onto_another_agents_name_is_refused(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout", "Critic")
    with pytest.raises(Conflict):
        await app.uc.edit_agent(alice, room.id, "Critic", name="scout")
    same = await app.uc.edit_agent(alice, room.id, "Critic", name="CRITIC")
    assert same.name == "CRITIC"


async def test_a_removed_agents_name_can_be_reused(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout", "Critic", "Writer")
    await app.uc.remove_agent(alice, room.id, "scout")
    agents = await app.uc.list_agents(alice, room.id)
    assert [(a.name, a.position) for a in agents] == [("Critic", 0), ("Writer", 1)]
    await app.uc.add_agent(alice, room.id, name="Scout", model_alias="qwen")
    with pytest.raises(NotFound):
        await app.uc.remove_agent(alice, room.id, "Nobody")


async def test_edit_changes_only_what_is_given(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout")
    agent = await app.uc.edit_agent(alice, room.id, "Scout", model_alias="deepseek", files=True)
    assert (agent.name, agent.model_alias.value, agent.tools.files, agent.tools.web_search) == \
        ("Scout", "deepseek", True, False)


async def test_reorder_by_full_list_and_by_moving_one(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "A", "B", "C")
    await app.uc.reorder_agents(alice, room.id, ["c", "A", "b"])
    assert [a.name for a in await app.uc.list_agents(alice, room.id)] == ["C", "A", "B"]
    await app.uc.edit_agent(alice, room.id, "B", position=0)
    agents = await app.uc.list_agents(alice, room.id)
    assert [(a.name, a.position) for a in agents] == [("B", 0), ("C", 1), ("A", 2)]
    added = await app.uc.add_agent(alice, room.id, name="D", model_alias="qwen", position=1)
    assert added.position == 1
    assert [a.name for a in await app.uc.list_agents(alice, room.id)] == ["B", "D", "C", "A"]


@pytest.mark.parametrize("order", [["A", "B"], ["A", "B", "C", "C"], ["A", "B", "X"]])
async def test_reorder_must_name_every_agent_once(app: FakeApp, order: list[str]) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "A", "B", "C")
    with pytest.raises(InvalidInput) as err:
        await app.uc.reorder_agents(alice, room.id, order)
    assert err.value.code == "invalid_agent_order"
    assert [a.name for a in await app.uc.list_agents(alice, room.id)] == ["A", "B", "C"]


async def test_a_room_holds_a_bounded_number_of_agents(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, *[f"A{i}" for i in range(MAX_AGENTS_PER_ROOM)])
    with pytest.raises(Conflict) as err:
        await app.uc.add_agent(alice, room.id, name="OneMore", model_alias="qwen")
    assert err.value.code == "agent_limit_reached"
