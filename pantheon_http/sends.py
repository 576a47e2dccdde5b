"""What a send answers: ``202`` with the turn and its links, or the turn's stream itself.

The turn is created (or refused, as a plain JSON error) before any response starts,
so a client never gets a broken stream for a bad send. The engine runs the turn in
the background either way: a client that stops reading does not stop it.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request, Response

from pantheon_core.actor import Actor
from pantheon_core.domain.turns import Turn
from pantheon_core.usecases.catalog import UseCases
from pantheon_http.schemas.turns import TurnAccepted, TurnOut
from pantheon_http.streaming import KEEPALIVE_S, StreamFormat, TurnEventStream, negotiate

STREAM_DOC: Final = ("With `Accept: text/event-stream` (SSE: `id` = seq, `event` = type, "
                     "`data` = the event) or `Accept: application/x-ndjson` (one event per "
                     "line), the turn's events stream until its terminal event; silence is "
                     "broken by keep-alives (`: keep-alive` in SSE, an empty line in NDJSON).")

STREAM_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {"description": "The turn's events, as SSE or NDJSON.",
          "content": {StreamFormat.SSE.value: {"schema": {"type": "string"}},
                      StreamFormat.NDJSON.value: {"schema": {"type": "string"}}}},
}


def snapshot_url(request: Request, turn_id: str) -> str:
    return request.url_for("get_turn", turn_id=turn_id).path


def stream_url(request: Request, turn_id: str) -> str:
    return request.url_for("stream_turn_events", turn_id=turn_id).path


def keepalive_s(request: Request) -> float:
    return float(getattr(request.app.state, "stream_keepalive_s", KEEPALIVE_S))


async def answer_send(request: Request, response: Response, use_cases: UseCases, actor: Actor,
                      turn: Turn) -> TurnAccepted | TurnEventStream:
    """The stream the client asked for with ``Accept``, else the 202 body."""
    fmt = negotiate(request.headers.get("accept"), default=None)
    if fmt is None:
        response.headers["Location"] = snapshot_url(request, turn.id)
        return TurnAccepted(turn=TurnOut.of(turn), stream_url=stream_url(request, turn.id),
                            snapshot_url=snapshot_url(request, turn.id))
    events = use_cases.stream_turn_events.of_new_turn(actor, turn)
    return TurnEventStream(events, fmt, keepalive_s=keepalive_s(request),
                           headers={"X-Turn-ID": turn.id,
                                    "Content-Location": snapshot_url(request, turn.id)})
