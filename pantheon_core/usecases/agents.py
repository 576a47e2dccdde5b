"""Agent use cases (FR-AGENT-001..005).

Every change locks the room row first, so roster edits and a turn starting
(which snapshots the roster) are serialised: a turn sees the roster either
before or after an edit, never half of it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pantheon_core.actor import Actor
from pantheon_core.domain.agents import (
    Agent,
    ToolPermissions,
    clean_agent_name,
    clean_role_prompt,
    name_key,
    parse_alias,
)
from pantheon_core.domain.trash import TrashKind
from pantheon_core.errors import Conflict, not_found
from pantheon_core.ids import AgentId, new_id
from pantheon_core.usecases.access import agent_in, owned_room, roster_of
from pantheon_core.usecases.deps import UseCase
from pantheon_core.usecases.trash import missing_for_restore


class ListAgents(UseCase):
    """The active agents of one of the actor's rooms, by position; or with ``deleted`` the
    ones in the 7-day trash, most recently removed first."""

    async def __call__(self, actor: Actor, room_id: str, *,
                       deleted: bool = False) -> Sequence[Agent]:
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id)
            if deleted:
                return await uow.agents.list_deleted(room.id)
            return await uow.agents.list_active(room.id)


class GetAgent(UseCase):
    """One active agent of one of the actor's rooms, by id or name."""

    async def __call__(self, actor: Actor, room_id: str, agent_ref: str) -> Agent:
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id)
            return agent_in(await roster_of(uow, room), agent_ref)


class AddAgent(UseCase):
    """Add an agent to a room.

    - Name: a taggable handle, unique in the room regardless of case.
    - Model alias: one of llama, qwen, deepseek, gpt_oss, premium.
    - Role prompt: at most 4000 characters. Tools: ``web_search`` and ``files``, off by default.
    - At most 12 agents per room; the new one goes last unless ``position`` says otherwise.
    """

    async def __call__(self, actor: Actor, room_id: str, *, name: str, model_alias: str,
                       role_prompt: str = "", web_search: bool = False, files: bool = False,
                       position: int | None = None) -> Agent:
        clean_name = clean_agent_name(name)
        alias = parse_alias(model_alias)
        prompt = clean_role_prompt(role_prompt)
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            roster = await roster_of(uow, room)
            roster.ensure_room_for_one_more()
            roster.ensure_name_free(clean_name)
            agent = Agent(id=AgentId(new_id()), room_id=room.id, name=clean_name,
                          model_alias=alias, role_prompt=prompt,
                          tools=ToolPermissions(web_search=web_search, files=files),
                          position=roster.next_position(), created_at=now, updated_at=now)
            await uow.agents.add(agent)
            if position is not None:
                roster.agents.append(agent)
                for moved in roster.moved(agent.id, position, now):
                    await uow.agents.update(moved)
                    if moved.id == agent.id:
                        agent = moved
            await uow.commit()
        return agent


class EditAgent(UseCase):
    """Change any of an agent's fields under the rules of adding; applies from the next send."""

    async def __call__(self, actor: Actor, room_id: str, agent_ref: str, *,
                       name: str | None = None, model_alias: str | None = None,
                       role_prompt: str | None = None, web_search: bool | None = None,
                       files: bool | None = None, position: int | None = None) -> Agent:
        alias = None if model_alias is None else parse_alias(model_alias)
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            roster = await roster_of(uow, room)
            agent = agent_in(roster, agent_ref)
            tools = ToolPermissions(
                web_search=agent.tools.web_search if web_search is None else web_search,
                files=agent.tools.files if files is None else files,
            )
            agent = agent.edited(now, name=name, model_alias=alias, role_prompt=role_prompt,
                                 tools=tools)
            roster.ensure_name_free(agent.name, except_id=agent.id)
            await uow.agents.update(agent)
            if position is not None:
                roster.agents = [agent if a.id == agent.id else a for a in roster.agents]
                for moved in roster.moved(agent.id, position, now):
                    await uow.agents.update(moved)
                    if moved.id == agent.id:
                        agent = moved
            await uow.commit()
        return agent


class ReorderAgents(UseCase):
    """Set the whole order at once: ``agent_refs`` must name every active agent exactly once."""

    async def __call__(self, actor: Actor, room_id: str,
                       agent_refs: Sequence[str]) -> Sequence[Agent]:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            roster = await roster_of(uow, room)
            # Unknown refs are kept as given, so the order check lists every expected id.
            ids = [(found.id if (found := roster.find(ref)) else AgentId(ref))
                   for ref in agent_refs]
            agents = roster.reordered(ids, now)
            for agent in agents:
                await uow.agents.update(agent)
            await uow.commit()
        return agents


class RemoveAgent(UseCase):
    """Remove an agent from the room (soft delete); the others close the gap in the order."""

    async def __call__(self, actor: Actor, room_id: str, agent_ref: str) -> Agent:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            roster = await roster_of(uow, room)
            agent = agent_in(roster, agent_ref)
            removed = agent.removed(now)
            await uow.agents.update(removed)
            for other in roster.without(agent.id, now):
                await uow.agents.update(other)
            await uow.commit()
        return removed



class RestoreAgent(UseCase):
    """Bring back an agent removed less than 7 days ago (by id, or by name: the most
    recently removed one of that name), last in the order.

    - The room must be live and have room for one more agent (``agent_limit_reached``).
    - Its name must still be free (``duplicate_agent_name``: rename or remove the other).
    - After 7 days, or once purged: ``410 restore_window_expired``. A live agent:
      ``409 agent_not_deleted``.
    """

    async def __call__(self, actor: Actor, room_id: str, agent_ref: str) -> Agent:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            roster = await roster_of(uow, room)
            agent = _deleted_agent(await uow.agents.list_deleted(room.id), agent_ref)
            if agent is None:
                live = roster.find(agent_ref)
                if live is not None:
                    raise Conflict("This agent is not deleted.", code="agent_not_deleted",
                                   details={"kind": "agent", "ref": agent_ref})
                raise await missing_for_restore(uow, actor, TrashKind.AGENT, agent_ref,
                                                not_found("agent", agent_ref))
            restored = agent.restored(now, position=roster.next_position())
            roster.ensure_room_for_one_more()
            roster.ensure_name_free(restored.name)
            await uow.agents.update(restored)
            await uow.commit()
        return restored


def _deleted_agent(deleted: Sequence[Agent], ref: str) -> Agent | None:
    """The removed agent ``ref`` names: by id, else the most recently removed of that name."""
    key = name_key(ref.strip())
    return next((a for a in deleted if a.id == ref), None) or next(
        (a for a in deleted if name_key(a.name) == key), None)
