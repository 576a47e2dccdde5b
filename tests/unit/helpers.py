"""Small builders shared by the unit tests."""

from __future__ import annotations

from pantheon_core.actor import Actor
from pantheon_core.domain.rooms import Room
from tests.fakes import FakeApp


async def sign_up(app: FakeApp, email: str) -> Actor:
    return await app.uc.act_as(Actor.operator(), email)


async def room_with_agents(app: FakeApp, actor: Actor, *names: str,
                           mode: str | None = None) -> Room:
    room = await app.uc.create_room(actor, name="Research", mode=mode)
    for name in names:
        await app.uc.add_agent(actor, room.id, name=name, model_alias="qwen")
    return room
