"""Direct chat (FR-DIRECT-001..003): one agent, its own memory, the same tools and billing.

A session copies one of your room agents or starts from a fresh definition; later
edits to the room agent do not change it. Sends behave as in rooms: 202 with the
turn's links, or the stream itself with a streaming ``Accept``.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.params import BeforeQuery, DirectSessionIdPath, LimitQuery
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.direct import DirectSessionCreate, DirectSessionList, DirectSessionOut
from pantheon_http.schemas.timeline import TimelinePageOut
from pantheon_http.schemas.turns import MessageIn, TurnAccepted
from pantheon_http.sends import STREAM_DOC, STREAM_RESPONSES, answer_send
from pantheon_http.streaming import TurnEventStream

router = APIRouter(prefix="/direct-sessions", tags=["direct"],
                   responses=error_responses(401, 404))


@router.post("", status_code=201, summary="Start a 1:1 chat with one agent",
             responses=error_responses(422))
async def create_direct_session(body: DirectSessionCreate, actor: CurrentActor,
                                use_cases: UseCasesDep) -> DirectSessionOut:
    """Send `room_id` + `agent_id` (id or name) to copy a room agent, or `agent` to
    define one; neither is 422 `agent_required`."""
    agent = body.agent
    session = await use_cases.create_direct_session(
        actor, room_id=body.room_id, agent_ref=body.agent_id,
        name=agent.name if agent else None, model_alias=agent.model_alias if agent else None,
        role_prompt=agent.role_prompt if agent else "",
        web_search=agent.tools.web_search if agent else False,
        files=agent.tools.files if agent else False, title=body.title)
    return DirectSessionOut.of(session)


@router.get("", summary="Your direct chats")
async def list_direct_sessions(actor: CurrentActor, use_cases: UseCasesDep,
                               deleted: bool = Query(False, description="List the 7-day trash "
                                                                        "instead.")
                               ) -> DirectSessionList:
    sessions = await use_cases.list_direct_sessions(actor, deleted=deleted)
    return DirectSessionList(sessions=[DirectSessionOut.of(s) for s in sessions])


@router.get("/{session_id}", summary="One direct chat")
async def get_direct_session(session_id: DirectSessionIdPath, actor: CurrentActor,
                             use_cases: UseCasesDep) -> DirectSessionOut:
    return DirectSessionOut.of(await use_cases.get_direct_session(actor, session_id))


@router.delete("/{session_id}", summary="Delete a direct chat (restorable for 7 days)")
async def delete_direct_session(session_id: DirectSessionIdPath, actor: CurrentActor,
                                use_cases: UseCasesDep) -> DirectSessionOut:
    """Its history and files go into the trash with it; purged 7 days later."""
    return DirectSessionOut.of(await use_cases.delete_direct_session(actor, session_id))


@router.post("/{session_id}/restore", summary="Restore a deleted direct chat",
             responses=error_responses(409, 410))
async def restore_direct_session(session_id: DirectSessionIdPath, actor: CurrentActor,
                                 use_cases: UseCasesDep) -> DirectSessionOut:
    """410 `restore_window_expired` after 7 days (also once purged); 409
    `direct_session_not_deleted`."""
    return DirectSessionOut.of(await use_cases.restore_direct_session(actor, session_id))


@router.post("/{session_id}/messages", status_code=202, summary="Send a message to the agent",
             response_model=TurnAccepted,
             responses={**STREAM_RESPONSES, **error_responses(402, 403, 422, 429, 503)},
             description=f"Starts a direct turn. {STREAM_DOC}")
async def send_direct_message(session_id: DirectSessionIdPath, body: MessageIn,
                              actor: CurrentActor, use_cases: UseCasesDep, request: Request,
                              response: Response) -> TurnAccepted | TurnEventStream:
    turn = await use_cases.send_direct(actor, session_id, body.content)
    return await answer_send(request, response, use_cases, actor, turn)


@router.get("/{session_id}/history", summary="The chat's messages, a page of turns at a time",
            responses=error_responses(422))
async def direct_history(session_id: DirectSessionIdPath, actor: CurrentActor,
                         use_cases: UseCasesDep, limit: LimitQuery = 20,
                         before: BeforeQuery = None) -> TimelinePageOut:
    """Same shape as a room's timeline; pass `next_before` as `before` for older turns."""
    page = await use_cases.list_timeline(actor, direct_session_id=session_id, limit=limit,
                                         before=before)
    return TimelinePageOut.of(page)
