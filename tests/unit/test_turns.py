"""Starting turns: the mode state machine at send time, roster snapshots, manual tags."""

from __future__ import annotations

import pytest

from pantheon_core.domain.agents import ModelAlias, ToolPermissions
from pantheon_core.domain.modes import RoomMode, TurnMode
from pantheon_core.domain.turns import AgentSnapshot, TurnStatus, tagged_agents
from pantheon_core.errors import InvalidInput
from pantheon_core.ids import AgentId
from tests.fakes import FakeApp
from tests.unit.helpers import room_with_agents, sign_up


async def test_at_001_mode_switch_takes_effect_at_the_next_send_only(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout", "Critic", mode="roundtable")
    first = await app.uc.begin_turn(alice, room.id, "Compare the options")

    switched = await app.uc.request_mode(alice, room.id, "orchestrator")
    assert (switched.current_mode, switched.pending_mode) == \
        (RoomMode.ROUNDTABLE, RoomMode.ORCHESTRATOR)
    # The running turn keeps its own mode (FR-ROOM-006).
    assert (await app.uc.get_turn(alice, first.id)).turn.mode is TurnMode.ROUNDTABLE

    second = await app.uc.begin_turn(alice, room.id, "Now decide")
    assert second.mode is TurnMode.ORCHESTRATOR
    room_after = (await app.uc.get_room(alice, room.id)).room
    assert (room_after.current_mode, room_after.pending_mode) == (RoomMode.ORCHESTRATOR, None)
    assert (await app.uc.get_turn(alice, first.id)).turn.mode is TurnMode.ROUNDTABLE

    third = await app.uc.begin_turn(alice, room.id, "And again")
    assert third.mode is TurnMode.ORCHESTRATOR


async def test_at_001_several_switches_before_a_send_leave_the_last_one(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout")
    for mode in ("orchestrator", "manual", "roundtable", "manual"):
        await app.uc.request_mode(alice, room.id, mode)
    turn = await app.uc.begin_turn(alice, room.id, "@scout go")
    assert turn.mode is TurnMode.MANUAL


async def test_at_002_roster_changes_reach_the_next_turn_not_a_started_one(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout", "Critic")
    first = await app.uc.begin_turn(alice, room.id, "Plan the launch")

    await app.uc.add_agent(alice, room.id, name="Writer", model_alias="premium")
    await app.uc.remove_agent(alice, room.id, "Scout")
    await app.uc.edit_agent(alice, room.id, "Critic", model_alias="deepseek")

    started = (await app.uc.get_turn(alice, first.id)).turn
    assert [(a.name, a.model_alias.value) for a in started.roster] == \
        [("Scout", "qwen"), ("Critic", "qwen")]
    nxt = await app.uc.begin_turn(alice, room.id, "Plan it again")
    assert [(a.name, a.model_alias.value) for a in nxt.roster] == \
        [("Critic", "deepseek"), ("Writer", "premium")]
    assert nxt.selected == tuple(a.agent_id for a in nxt.roster)


async def test_manual_send_without_a_valid_tag_is_refused_and_changes_nothing(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout", "Critic")
    await app.uc.request_mode(alice, room.id, "manual")
    before = app.store.rooms[room.id]
    with pytest.raises(InvalidInput) as err:
        await app.uc.begin_turn(alice, room.id, "hey @Nobody, and mail bob@Scout.com")
    assert err.value.code == "no_valid_tags"
    assert err.value.details["valid_handles"] == ["@Scout", "@Critic"]
    assert app.store.turns == {}
    assert app.store.rooms[room.id] == before  # still pending: the send never happened


async def test_manual_runs_tagged_agents_in_tag_order(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout", "Critic", "Writer", mode="manual")
    turn = await app.uc.begin_turn(alice, room.id, "@writer draft, then @SCOUT check. @writer!")
    names = {a.agent_id: a.name for a in turn.roster}
    assert [names[i] for i in turn.selected] == ["Writer", "Scout"]
    assert turn.status is TurnStatus.RUNNING


async def test_orchestrator_leaves_selection_to_the_manager(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout", mode="orchestrator")
    turn = await app.uc.begin_turn(alice, room.id, "Go")
    assert turn.selected == () and len(turn.roster) == 1


@pytest.mark.parametrize(("message", "code"), [("   ", "empty_message"),
                                               ("x" * 32_001, "message_too_long")])
async def test_bad_messages_are_refused(app: FakeApp, message: str, code: str) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await room_with_agents(app, alice, "Scout")
    with pytest.raises(InvalidInput) as err:
        await app.uc.begin_turn(alice, room.id, message)
    assert err.value.code == code


async def test_a_room_without_agents_cannot_take_a_send(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    room = await app.uc.create_room(alice, name="Empty")
    await app.uc.request_mode(alice, room.id, "manual")
    with pytest.raises(InvalidInput) as err:
        await app.uc.begin_turn(alice, room.id, "hello")
    assert err.value.code == "room_has_no_agents"
    assert app.store.rooms[room.id].pending_mode is RoomMode.MANUAL


def _snap(name: str) -> AgentSnapshot:
    return AgentSnapshot(AgentId(name.lower()), name, ModelAlias.QWEN, "", ToolPermissions(), 0)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("@Ana-, what do you think?", ["Ana"]),
        ("@Ana-Lee and @ana", ["Ana-Lee", "Ana"]),
        ("(@bo) then @ANA", ["Bo", "Ana"]),
        ("mail ana@bo.com", []),
        ("@@Ana", []),
        ("@Anabel", []),
    ],
)
def test_tag_parsing(message: str, expected: list[str]) -> None:
    roster = [_snap("Ana"), _snap("Bo"), _snap("Ana-Lee")]
    assert [a.name for a in tagged_agents(message, roster)] == expected
