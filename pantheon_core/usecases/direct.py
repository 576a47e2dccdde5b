"""Direct chat (FR-DIRECT-001..003): one agent, its own memory, the same rules and billing."""

from __future__ import annotations

from collections.abc import Sequence

from pantheon_core.actor import Actor
from pantheon_core.domain.agents import (
    ToolPermissions,
    clean_agent_name,
    clean_role_prompt,
    parse_alias,
)
from pantheon_core.domain.modes import TurnMode
from pantheon_core.domain.sessions import DirectSession, clean_title
from pantheon_core.domain.trash import TrashKind
from pantheon_core.domain.turns import AgentSnapshot, Turn, TurnStatus, clean_message
from pantheon_core.errors import InvalidInput, not_found
from pantheon_core.ids import AgentId, DirectSessionId, TurnId, new_id
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.access import agent_in, owned_room, roster_of
from pantheon_core.usecases.admission import Admission, commit_admitted
from pantheon_core.usecases.deps import UseCase
from pantheon_core.usecases.ledger import check_can_send
from pantheon_core.usecases.trash import missing_for_restore
from pantheon_core.usecases.turns import start_turn


async def owned_direct(uow: UnitOfWork, actor: Actor, session_id: str) -> DirectSession:
    user_id = actor.require_user()
    session = await uow.sessions.get_direct_session(DirectSessionId(session_id))
    if session is None or session.user_id != user_id or session.deleted_at is not None:
        raise not_found("direct_session", session_id)
    return session


class CreateDirectSession(UseCase):
    """Start a 1:1 chat with a copy of one of the actor's room agents (``room_id`` +
    ``agent_ref``) or with a fresh agent definition (``name`` + ``model_alias`` …).

    The session owns its copy: later edits to the room agent do not change it.
    """

    async def __call__(self, actor: Actor, *, room_id: str | None = None,
                       agent_ref: str | None = None, name: str | None = None,
                       model_alias: str | None = None, role_prompt: str = "",
                       web_search: bool = False, files: bool = False,
                       title: str | None = None) -> DirectSession:
        user_id = actor.require_user()
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            if room_id is not None and agent_ref is not None:
                room = await owned_room(uow, actor, room_id)
                agent = AgentSnapshot.of(agent_in(await roster_of(uow, room), agent_ref))
                source: AgentId | None = agent.agent_id
            elif name is not None and model_alias is not None:
                agent = AgentSnapshot(AgentId(new_id()), clean_agent_name(name),
                                      parse_alias(model_alias), clean_role_prompt(role_prompt),
                                      ToolPermissions(web_search=web_search, files=files), 0)
                source = None
            else:
                raise InvalidInput("Name a room agent (room_id and agent) or define one "
                                   "(name and model_alias).", code="agent_required")
            session = DirectSession(
                id=DirectSessionId(new_id()), user_id=user_id, agent=agent,
                title=clean_title(title or "", default=f"Chat with {agent.name}"),
                created_at=now, updated_at=now, source_agent_id=source)
            await uow.sessions.add_direct_session(session)
            await uow.commit()
        return session


class ListDirectSessions(UseCase):
    """The actor's direct chats, or with ``deleted`` the ones in the 7-day trash; most
    recently active first."""

    async def __call__(self, actor: Actor, *, deleted: bool = False) -> Sequence[DirectSession]:
        user_id = actor.require_user()
        async with self.deps.uow() as uow:
            return await uow.sessions.list_direct_sessions(user_id, deleted=deleted)


class DeleteDirectSession(UseCase):
    """Soft-delete a direct chat: it leaves the listings with its turns and files, and can
    be restored for 7 days; then it is purged."""

    async def __call__(self, actor: Actor, session_id: str) -> DirectSession:
        async with self.deps.uow() as uow:
            session = await owned_direct(uow, actor, session_id)
            session = session.soft_deleted(self.deps.clock.now())
            await uow.sessions.update_direct_session(session)
            await uow.commit()
        return session


class RestoreDirectSession(UseCase):
    """Bring back a direct chat deleted less than 7 days ago, with its turns and files.
    Later, or once purged: ``410 restore_window_expired``; a live one:
    ``409 direct_session_not_deleted``."""

    async def __call__(self, actor: Actor, session_id: str) -> DirectSession:
        user_id = actor.require_user()
        async with self.deps.uow() as uow:
            session = await uow.sessions.get_direct_session(DirectSessionId(session_id))
            if session is None or session.user_id != user_id:
                raise await missing_for_restore(uow, actor, TrashKind.DIRECT_SESSION,
                                                session_id,
                                                not_found("direct_session", session_id))
            session = session.restored(self.deps.clock.now())
            await uow.sessions.update_direct_session(session)
            await uow.commit()
        return session


class GetDirectSession(UseCase):
    async def __call__(self, actor: Actor, session_id: str) -> DirectSession:
        async with self.deps.uow() as uow:
            return await owned_direct(uow, actor, session_id)


class SendDirect(UseCase):
    """Send a message in a direct session and run it in the background; admitted by the
    turn limits like a room send (see :mod:`.admission`)."""

    async def __call__(self, actor: Actor, session_id: str, message: str) -> Turn:
        text = clean_message(message)
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            session = await owned_direct(uow, actor, session_id)
            await check_can_send(uow, self.deps, session.user_id, [session.agent.model_alias])
            turn = Turn(id=TurnId(new_id()), user_id=session.user_id, mode=TurnMode.DIRECT,
                        status=TurnStatus.RUNNING, message=text, roster=(session.agent,),
                        selected=(session.agent.agent_id,), created_at=now,
                        direct_session_id=session.id, heartbeat_at=now)
            await uow.sessions.update_direct_session(session.touched(now))
            await uow.turns.add(turn)
            ticket = await commit_admitted(uow, Admission(self.deps), turn.user_id, turn.id)
        start_turn(self, turn, ticket)
        return turn
