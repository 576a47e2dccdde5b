"""A room's agents, soft-deleted, with names unique among the live ones."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from pantheon_adapters.sql.errors import is_unique_violation
from pantheon_adapters.sql.tables import room_agents
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.agents import Agent, ModelAlias, ToolPermissions, name_key
from pantheon_core.errors import Conflict
from pantheon_core.ids import AgentId, RoomId


def _row(agent: Agent) -> dict[str, Any]:
    return {"id": agent.id, "room_id": agent.room_id, "name": agent.name,
            "name_key": name_key(agent.name), "model_alias": agent.model_alias.value,
            "role_prompt": agent.role_prompt, "tool_web_search": agent.tools.web_search,
            "tool_files": agent.tools.files, "position": agent.position,
            "created_at": agent.created_at, "updated_at": agent.updated_at,
            "deleted_at": agent.deleted_at}


def _agent(row: Row[Any]) -> Agent:
    return Agent(id=AgentId(row.id), room_id=RoomId(row.room_id), name=row.name,
                 model_alias=ModelAlias(row.model_alias), role_prompt=row.role_prompt,
                 tools=ToolPermissions(web_search=bool(row.tool_web_search),
                                       files=bool(row.tool_files)),
                 position=row.position, created_at=row.created_at, updated_at=row.updated_at,
                 deleted_at=row.deleted_at)


@functools.cache
def _active_of_room() -> Select[Any]:
    """A room's roster, built once: binds ``room_id``."""
    return (select(room_agents)
            .where(room_agents.c.room_id == bindparam("room_id"),
                   room_agents.c.deleted_at.is_(None))
            .order_by(room_agents.c.position, room_agents.c.created_at, room_agents.c.id))


class SqlAgentRepository:
    """``AgentRepository`` over ``room_agents``.

    The database backs core's name rule: two live agents of one room whose names are
    equal ignoring case raise ``Conflict(code="duplicate_agent_name")`` (on ``add`` or
    ``update``), leaving the unit of work usable. A soft-deleted agent frees its name.
    ``list_active`` orders by position, then creation time, then id; ``list_deleted`` by
    deletion time (newest first), then id.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, agent: Agent) -> None:
        await self._write(agent, room_agents.insert().values(_row(agent)))

    async def get(self, agent_id: AgentId) -> Agent | None:
        row = await self._tx.first(select(room_agents).where(room_agents.c.id == agent_id))
        return None if row is None else _agent(row)

    async def list_active(self, room_id: RoomId) -> Sequence[Agent]:
        rows = await self._tx.rows(_active_of_room(), params={"room_id": room_id})
        return [_agent(row) for row in rows]

    async def list_deleted(self, room_id: RoomId) -> Sequence[Agent]:
        rows = await self._tx.rows(
            select(room_agents)
            .where(room_agents.c.room_id == room_id, room_agents.c.deleted_at.is_not(None))
            .order_by(room_agents.c.deleted_at.desc(), room_agents.c.id.desc())
        )
        return [_agent(row) for row in rows]

    async def update(self, agent: Agent) -> None:
        statement = update(room_agents).where(room_agents.c.id == agent.id).values(_row(agent))
        await self._write(agent, statement)

    async def _write(self, agent: Agent, statement: Any) -> None:
        try:
            async with self._tx.savepoint():
                await self._tx.execute(statement)
        except IntegrityError as exc:
            if is_unique_violation(exc, "name_key"):
                raise Conflict(f"This room already has an agent called {agent.name!r} "
                               "(names are case-insensitive).", code="duplicate_agent_name",
                               details={"name": agent.name}) from exc
            raise
