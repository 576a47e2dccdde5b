"""Chatting in a room: sending, its sessions and its timeline (FR-RT-*, FR-MODE-005).

A send answers 202 with the turn's links, or streams the turn with a streaming
``Accept``. A refused send (``no_valid_tags``, ``room_has_no_agents``, the turn limits'
429 ``too_many_running_turns`` / ``rate_limited`` and 503 ``server_busy`` with
``Retry-After``…) is always a plain JSON error: nothing started, nothing billed.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.params import BeforeQuery, LimitQuery, RoomIdPath, SessionQuery
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.timeline import SessionCreate, SessionList, SessionOut, TimelinePageOut
from pantheon_http.schemas.turns import RoomMessageIn, TurnAccepted
from pantheon_http.sends import STREAM_DOC, STREAM_RESPONSES, answer_send
from pantheon_http.streaming import TurnEventStream

router = APIRouter(prefix="/rooms/{room_id}", tags=["chat"], responses=error_responses(401, 404))


@router.post("/messages", status_code=202, summary="Send a message to the room's agents",
             response_model=TurnAccepted,
             responses={**STREAM_RESPONSES, **error_responses(402, 403, 422, 429, 503)},
             description=f"Starts a turn in the room's effective mode. {STREAM_DOC}")
async def send_message(room_id: RoomIdPath, body: RoomMessageIn, actor: CurrentActor,
                       use_cases: UseCasesDep, request: Request,
                       response: Response) -> TurnAccepted | TurnEventStream:
    turn = await use_cases.send_to_room(actor, room_id, body.content, session_id=body.session_id)
    return await answer_send(request, response, use_cases, actor, turn)


@router.get("/sessions", summary="The room's conversation sessions")
async def list_sessions(room_id: RoomIdPath, actor: CurrentActor, use_cases: UseCasesDep,
                        limit: int = Query(50, ge=1, le=200)) -> SessionList:
    sessions = await use_cases.list_room_sessions(actor, room_id, limit=limit)
    return SessionList(sessions=[SessionOut.of(s) for s in sessions])


@router.post("/sessions", status_code=201, summary="Start a fresh session (new memory)",
             responses=error_responses(422))
async def start_session(room_id: RoomIdPath, actor: CurrentActor, use_cases: UseCasesDep,
                        body: SessionCreate | None = None) -> SessionOut:
    """Later sends go to the newest session unless they name one; same agents."""
    title = body.title if body else None
    return SessionOut.of(await use_cases.start_room_session(actor, room_id, title=title))


@router.get("/timeline", summary="The room's messages, a page of turns at a time",
            responses=error_responses(422))
async def room_timeline(room_id: RoomIdPath, actor: CurrentActor, use_cases: UseCasesDep,
                        session_id: SessionQuery = None, limit: LimitQuery = 20,
                        before: BeforeQuery = None) -> TimelinePageOut:
    """Each turn: the user's message, then every step as its own message. Newest page
    first; pass `next_before` as `before` for older ones."""
    page = await use_cases.list_timeline(actor, room_id=room_id, session_id=session_id,
                                         limit=limit, before=before)
    return TimelinePageOut.of(page)
