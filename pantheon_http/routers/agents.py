"""A room's agents (FR-AGENT-001..005). Changes apply from the room's next send.

An ``agent_id`` in a path may also be the agent's name (case-insensitive), as on the CLI.
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.params import AgentRefPath, RoomIdPath
from pantheon_http.schemas.agents import AgentCreate, AgentList, AgentOrder, AgentOut, AgentPatch
from pantheon_http.schemas.base import error_responses

router = APIRouter(prefix="/rooms/{room_id}/agents", tags=["agents"],
                   responses=error_responses(401, 404))


@router.get("", summary="List a room's agents, in order")
async def list_agents(room_id: RoomIdPath, actor: CurrentActor, use_cases: UseCasesDep,
                      deleted: bool = Query(False, description="List the 7-day trash instead "
                                                               "(most recently removed first).")
                      ) -> AgentList:
    agents = await use_cases.list_agents(actor, room_id, deleted=deleted)
    return AgentList(agents=[AgentOut.of(a) for a in agents])


@router.post("", status_code=201, summary="Add an agent", responses=error_responses(409, 422))
async def add_agent(room_id: RoomIdPath, body: AgentCreate, actor: CurrentActor,
                    use_cases: UseCasesDep) -> AgentOut:
    agent = await use_cases.add_agent(
        actor, room_id, name=body.name, model_alias=body.model_alias,
        role_prompt=body.role_prompt, web_search=body.tools.web_search, files=body.tools.files,
        position=body.position,
    )
    return AgentOut.of(agent)


@router.put("/order", summary="Set the order of all agents", responses=error_responses(422))
async def reorder_agents(room_id: RoomIdPath, body: AgentOrder, actor: CurrentActor,
                         use_cases: UseCasesDep) -> AgentList:
    agents = await use_cases.reorder_agents(actor, room_id, body.agent_ids)
    return AgentList(agents=[AgentOut.of(a) for a in agents])


@router.get("/{agent_id}", summary="One agent")
async def get_agent(room_id: RoomIdPath, agent_id: AgentRefPath, actor: CurrentActor,
                    use_cases: UseCasesDep) -> AgentOut:
    return AgentOut.of(await use_cases.get_agent(actor, room_id, agent_id))


@router.patch("/{agent_id}", summary="Edit an agent (any field, including position)",
              responses=error_responses(409, 422))
async def edit_agent(room_id: RoomIdPath, agent_id: AgentRefPath, body: AgentPatch,
                     actor: CurrentActor, use_cases: UseCasesDep) -> AgentOut:
    tools = body.tools
    agent = await use_cases.edit_agent(
        actor, room_id, agent_id, name=body.name, model_alias=body.model_alias,
        role_prompt=body.role_prompt, web_search=tools.web_search if tools else None,
        files=tools.files if tools else None, position=body.position,
    )
    return AgentOut.of(agent)


@router.delete("/{agent_id}", status_code=204,
               summary="Remove an agent (restorable for 7 days)")
async def remove_agent(room_id: RoomIdPath, agent_id: AgentRefPath, actor: CurrentActor,
                       use_cases: UseCasesDep) -> None:
    await use_cases.remove_agent(actor, room_id, agent_id)


@router.post("/{agent_id}/restore", summary="Restore a removed agent",
             responses=error_responses(409, 410))
async def restore_agent(room_id: RoomIdPath, agent_id: AgentRefPath, actor: CurrentActor,
                        use_cases: UseCasesDep) -> AgentOut:
    """Back last in the order. 410 `restore_window_expired` after 7 days (also once purged);
    409 `agent_not_deleted`, `duplicate_agent_name` (the name was taken meanwhile) or
    `agent_limit_reached`."""
    return AgentOut.of(await use_cases.restore_agent(actor, room_id, agent_id))
