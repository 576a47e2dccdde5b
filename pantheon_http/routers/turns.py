"""Turns (FR-RT-001..004): the durable snapshot, the event stream, cancelling.

Someone else's turn is always 404 ``turn_not_found``.
"""

from __future__ import annotations

from fastapi import APIRouter, Header, Query, Request

from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.params import TurnIdPath
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.turns import TurnOut, TurnSnapshot
from pantheon_http.sends import STREAM_RESPONSES, keepalive_s
from pantheon_http.streaming import StreamFormat, TurnEventStream, negotiate, resume_point

router = APIRouter(prefix="/turns", tags=["turns"], responses=error_responses(401, 404))


@router.get("/{turn_id}", summary="A turn and its timeline so far")
async def get_turn(turn_id: TurnIdPath, actor: CurrentActor,
                   use_cases: UseCasesDep) -> TurnSnapshot:
    """The durable snapshot: every step with the content streamed so far, and
    ``last_seq``, from which ``…/events?after=`` picks up."""
    return TurnSnapshot.of(await use_cases.get_turn(actor, turn_id))


@router.get("/{turn_id}/events", summary="Stream a turn's events (SSE or NDJSON)",
            response_class=TurnEventStream, status_code=200,
            responses={**STREAM_RESPONSES, **error_responses(422)})
async def stream_turn_events(
    turn_id: TurnIdPath, actor: CurrentActor, use_cases: UseCasesDep, request: Request,
    after: int = Query(0, ge=0, description="Send only events with a larger seq."),
    last_event_id: str | None = Header(None, max_length=20,
                                       description="The last seq seen (SSE resume); "
                                                   "the larger of it and `after` wins."),
) -> TurnEventStream:
    """Exactly the events after the resume point, then the live tail, ending with the
    terminal event. SSE unless `Accept` prefers `application/x-ndjson`."""
    fmt = negotiate(request.headers.get("accept"), default=StreamFormat.SSE) or StreamFormat.SSE
    events = await use_cases.stream_turn_events(actor, turn_id,
                                                after=resume_point(after, last_event_id))
    return TurnEventStream(events, fmt, keepalive_s=keepalive_s(request))


@router.post("/{turn_id}/cancel", status_code=202, summary="Cancel a running turn",
             responses=error_responses(409))
async def cancel_turn(turn_id: TurnIdPath, actor: CurrentActor,
                      use_cases: UseCasesDep) -> TurnOut:
    """Asks the engine to stop; steps already done keep their results. The turn ends
    with ``turn_failed`` (``cancelled``) on its stream. A finished turn is 409
    ``turn_not_running``."""
    return TurnOut.of(await use_cases.cancel_turn(actor, turn_id))
