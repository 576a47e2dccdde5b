"""Starting turns (FR-ROOM-005/006, FR-AGENT-004, FR-MODE-001) and sending messages.

``BeginTurn`` is the single transaction that turns a send into a turn record;
``SendToRoom`` also starts the engine on it in the background, so the turn keeps
running when the client that sent it disconnects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pantheon_core import correlation
from pantheon_core.actor import Actor
from pantheon_core.domain.manager import MANAGER_MODEL_KEY, manager_alias
from pantheon_core.domain.modes import RoomMode, TurnMode
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.sessions import RoomSession, clean_title
from pantheon_core.domain.turns import (
    AgentSnapshot,
    Turn,
    TurnStatus,
    clean_message,
    tagged_agents,
)
from pantheon_core.engine.runner import TurnRunner
from pantheon_core.errors import InvalidInput, not_found
from pantheon_core.ids import AgentId, RoomSessionId, TurnId, new_id
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.access import owned_room
from pantheon_core.usecases.admission import Admission, TurnTicket, commit_admitted
from pantheon_core.usecases.deps import UseCase
from pantheon_core.usecases.ledger import check_can_send


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


def default_session_title(now: datetime) -> str:
    return f"Session of {now:%Y-%m-%d %H:%M} UTC"


async def room_session_for(uow: UnitOfWork, room: Room, session_id: str | None,
                           now: datetime) -> RoomSession:
    """The named session of the room, else its latest, else a new one."""
    if session_id is not None:
        session = await uow.sessions.get_room_session(RoomSessionId(session_id))
        if session is None or session.room_id != room.id:
            raise not_found("session", session_id)
        return session
    session = await uow.sessions.latest_room_session(room.id)
    if session is None:
        session = RoomSession(id=RoomSessionId(new_id()), room_id=room.id,
                              user_id=room.owner_id, title=default_session_title(now),
                              created_at=now, updated_at=now)
        await uow.sessions.add_room_session(session)
    return session


class BeginTurn(UseCase):
    """Create a turn from a send, in one transaction with the room row locked.

    - The effective mode is ``pending_mode or current_mode``; the room's current mode
      becomes it and ``pending_mode`` is cleared (FR-ROOM-005).
    - The active roster is copied into the turn; the turn reads only that copy (FR-AGENT-004).
    - Manual mode with no valid ``@Name`` tag is rejected with ``no_valid_tags`` and
      changes nothing, not even the pending mode (FR-MODE-001).
    - A room without agents cannot take a send (``room_has_no_agents``).
    - The turn joins the given session of the room, else its latest (created if none).
    """

    async def __call__(self, actor: Actor, room_id: str, message: str, *,
                       session_id: str | None = None) -> Turn:
        turn, _ = await self.begin(actor, room_id, message, session_id=session_id)
        return turn

    async def begin(self, actor: Actor, room_id: str, message: str, *,
                    session_id: str | None = None,
                    admission: Admission | None = None) -> tuple[Turn, TurnTicket | None]:
        """The turn, and with ``admission`` the slots it was admitted with (see
        :mod:`.admission`: checked last, just before the commit)."""
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
            selected = select_agents(mode, text, roster)
            models = [a.model_alias for a in roster if a.agent_id in selected]
            if TurnMode.of(mode) is TurnMode.ORCHESTRATOR:
                models.append(manager_alias(await uow.settings.get(MANAGER_MODEL_KEY)))
            await check_can_send(uow, self.deps, room.owner_id, models)
            session = await room_session_for(uow, room, session_id, now)
            turn = Turn(id=TurnId(new_id()), user_id=room.owner_id, mode=TurnMode.of(mode),
                        status=TurnStatus.RUNNING, message=text, roster=roster,
                        selected=selected, created_at=now, room_id=room.id,
                        session_id=session.id, heartbeat_at=now)
            await uow.rooms.update(room)
            await uow.sessions.update_room_session(session.touched(now))
            await uow.turns.add(turn)
            ticket = await commit_admitted(uow, admission, turn.user_id, turn.id)
        return turn, ticket


class SendToRoom(UseCase):
    """Send a message to a room: begin the turn, then run it in the background.

    The send is admitted by the turn limits (``too_many_running_turns``, ``server_busy``,
    ``rate_limited``) after every other check, in the turn's own transaction.
    """

    async def __call__(self, actor: Actor, room_id: str, message: str, *,
                       session_id: str | None = None) -> Turn:
        turn, ticket = await BeginTurn(self.deps).begin(actor, room_id, message,
                                                        session_id=session_id,
                                                        admission=Admission(self.deps))
        start_turn(self, turn, ticket)
        return turn


def start_turn(use_case: UseCase, turn: Turn, ticket: TurnTicket | None = None) -> None:
    """Run ``turn`` in the background; with a ``ticket``, its slots are kept while it runs
    and released when it ends."""
    runner = TurnRunner(use_case.deps)
    admission = Admission(use_case.deps)

    async def run() -> None:
        # the task starts with a copy of the sender's context (its request id): add the turn's
        with correlation.bound(turn_id=turn.id, user_id=turn.user_id):
            if ticket is None:
                await runner.run(turn)
            else:
                await admission.hold(ticket, lambda: runner.run(turn))

    use_case.deps.tasks.spawn(f"turn:{turn.id}", run)


class StartRoomSession(UseCase):
    """A fresh conversation in a room: new memory and timeline, same agents."""

    async def __call__(self, actor: Actor, room_id: str, *,
                       title: str | None = None) -> RoomSession:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            name = clean_title(title or "", default=default_session_title(now))
            session = RoomSession(id=RoomSessionId(new_id()), room_id=room.id,
                                  user_id=room.owner_id, title=name, created_at=now,
                                  updated_at=now)
            await uow.sessions.add_room_session(session)
            await uow.commit()
        return session


class ListRoomSessions(UseCase):
    """The room's sessions, newest first."""

    async def __call__(self, actor: Actor, room_id: str, *,
                       limit: int = 50) -> Sequence[RoomSession]:
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id)
            return await uow.sessions.list_room_sessions(room.id, limit=max(1, min(limit, 200)))
