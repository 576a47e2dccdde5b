"""Builders for engine tests: a signed-up user, a room, and turns run to the end."""

from __future__ import annotations

from pantheon_core.actor import Actor
from pantheon_core.domain.events import TurnEvent
from pantheon_core.domain.rooms import Room
from pantheon_core.usecases.conversation import TurnView
from tests.fakes import FakeApp
from tests.unit.helpers import sign_up


async def room_of(app: FakeApp, *names: str, mode: str = "roundtable",
                  email: str = "ana@example.com") -> tuple[Actor, Room]:
    actor = await sign_up(app, email)
    room = await app.uc.create_room(actor, name="Lab", mode=mode)
    for name in names:
        await app.uc.add_agent(actor, room.id, name=name, model_alias="qwen",
                               role_prompt=f"{name} role")
    return actor, room


async def run_turn(app: FakeApp, actor: Actor, room_id: str, message: str) -> TurnView:
    app.clock.advance(seconds=1)  # the fake clock stands still; turns are ordered by time
    turn = await app.uc.send_to_room(actor, room_id, message)
    await app.settle()
    return await app.uc.get_turn(actor, turn.id)


async def all_events(app: FakeApp, actor: Actor, turn_id: str, after: int = 0) -> list[TurnEvent]:
    stream = await app.uc.stream_turn_events(actor, turn_id, after=after)
    return [event async for event in stream]


def kinds(events: list[TurnEvent]) -> list[str]:
    return [e.type.value for e in events]
