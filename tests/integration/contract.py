"""Builders for the repository contract tests: valid entities with sensible defaults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pantheon_core.domain.agents import Agent, ModelAlias, ToolPermissions
from pantheon_core.domain.modes import RoomMode, TurnMode
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.turns import AgentSnapshot, Turn, TurnStatus
from pantheon_core.domain.users import User
from pantheon_core.ids import AgentId, RoomId, TurnId, UserId, new_id
from pantheon_core.ports.unit_of_work import UnitOfWork

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
Factory = Callable[[], UnitOfWork]


def a_user(email: str = "ada@example.com", at: datetime = T0) -> User:
    return User(id=UserId(new_id()), email=email, created_at=at)


def a_room(owner: User, name: str = "Research", at: datetime = T0) -> Room:
    return Room(id=RoomId(new_id()), owner_id=owner.id, name=name, description="",
                current_mode=RoomMode.ROUNDTABLE, pending_mode=None, created_at=at,
                updated_at=at)


def an_agent(room: Room, name: str, position: int, at: datetime = T0) -> Agent:
    return Agent(id=AgentId(new_id()), room_id=room.id, name=name, model_alias=ModelAlias.QWEN,
                 role_prompt=f"You are {name}.", tools=ToolPermissions(web_search=True),
                 position=position, created_at=at, updated_at=at)


def a_turn(room: Room, agents: list[Agent], at: datetime = T0) -> Turn:
    roster = tuple(AgentSnapshot.of(a) for a in agents)
    return Turn(id=TurnId(new_id()), room_id=room.id, user_id=room.owner_id,
                mode=TurnMode.ROUNDTABLE, status=TurnStatus.RUNNING, message="Hello, @Ana",
                roster=roster, selected=tuple(a.agent_id for a in roster), created_at=at)


async def seed(uow: Factory, *users: User, rooms: tuple[Room, ...] = ()) -> None:
    async with uow() as work:
        for user in users:
            await work.users.add(user)
        for room in rooms:
            await work.rooms.add(room)
        await work.commit()
