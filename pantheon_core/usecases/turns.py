"""Starting a turn (FR-ROOM-005/006, FR-AGENT-004, FR-MODE-001).

``BeginTurn`` is the single transaction that turns a send into a turn record.
Running it is the engine's job.
"""

from __future__ import annotations

from collections.abc import Sequence

from pantheon_core.actor import Actor
from pantheon_core.domain.modes import RoomMode
from pantheon_core.domain.turns import (
    AgentSnapshot,
    Turn,
    TurnStatus,
    clean_message,
    tagged_agents,
)
from pantheon_core.errors import InvalidInput, not_found
from pantheon_core.ids import AgentId, TurnId, new_id
from pantheon_core.usecases.access import owned_room
from pantheon_core.usecases.deps import UseCase


def select_agents(mode: RoomMode, message: str,
                  roster: Sequence[AgentSnapshot]) -> tuple[AgentId, ...]:
    """Which agents a mode runs up front: tagged ones (manual), all (roundtable), none yet
    (orchestrator: the manager's plan decides)."""
    if mode is RoomMode.MANUAL:
        tagged = tagged_agents(message, roster)
        if not tagged:
            handles = [f"@{a.name}" for a in roster]
            raise InvalidInput(
                "Manual mode runs only tagged agents, and this message tags none. "
                f"Tag one of: {', '.join(handles)}.",
                code="no_valid_tags", details={"valid_handles": handles},
            )
        return tuple(a.agent_id for a in tagged)
    if mode is RoomMode.ROUNDTABLE:
        return tuple(a.agent_id for a in roster)
    return ()


class BeginTurn(UseCase):
    """Create a turn from a send, in one transaction with the room row locked.

    - The effective mode is ``pending_mode or current_mode``; the room's current mode
      becomes it and ``pending_mode`` is cleared (FR-ROOM-005).
    - The active roster is copied into the turn; the turn reads only that copy (FR-AGENT-004).
    - Manual mode with no valid ``@Name`` tag is rejected with ``no_valid_tags`` and
      changes nothing, not even the pending mode (FR-MODE-001).
    - A room without agents cannot take a send (``room_has_no_agents``).
    """

    async def __call__(self, actor: Actor, room_id: str, message: str) -> Turn:
        text = clean_message(message)
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            agents = await uow.agents.list_active(room.id)
            if not agents:
                raise InvalidInput("This room has no agents yet; add one before sending.",
                                   code="room_has_no_agents")
            mode, room = room.start_send(now)
            roster = tuple(AgentSnapshot.of(a) for a in agents)
            turn = Turn(id=TurnId(new_id()), room_id=room.id, user_id=room.owner_id, mode=mode,
                        status=TurnStatus.RUNNING, message=text, roster=roster,
                        selected=select_agents(mode, text, roster), created_at=now)
            await uow.rooms.update(room)
            await uow.turns.add(turn)
            await uow.commit()
        return turn


class GetTurn(UseCase):
    """One turn of one of the actor's rooms."""

    async def __call__(self, actor: Actor, turn_id: str) -> Turn:
        async with self.deps.uow() as uow:
            turn = await uow.turns.get(TurnId(turn_id))
            if turn is None or turn.user_id != actor.user_id:
                raise not_found("turn", turn_id)
            return turn


class ListTurns(UseCase):
    """The newest turns of one of the actor's rooms."""

    async def __call__(self, actor: Actor, room_id: str, *, limit: int = 50) -> Sequence[Turn]:
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id)
            return await uow.turns.list_for_room(room.id, limit=max(1, min(limit, 200)))
