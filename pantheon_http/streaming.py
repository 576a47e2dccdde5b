"""A turn's events on the wire: SSE or NDJSON, chosen by ``Accept`` (FR-RT-001..004).

SSE, one frame per event, its ``id`` the event's seq (so a browser's ``EventSource``
resumes with ``Last-Event-ID`` by itself)::

    id: 7
    event: step_delta
    data: {"type": "step_delta", "seq": 7, "turn_id": "…", "step_id": "…", "ts": "…", "data": {…}}

NDJSON: the same JSON object, one per line. Silence is broken every ``keepalive_s``
by ``: keep-alive`` (an SSE comment) or an empty line (NDJSON), so proxies keep the
connection open. The stream ends after the turn's terminal event. If it cannot go on
(a dependency failed mid-stream) its last frame is an ``error`` in the usual shape,
and the client resumes from the last seq it saw.

The events are read by a task beside the one writing frames, so a keep-alive can be
written while the next event is awaited; a client that goes away stops both. The
turn itself runs elsewhere (``BackgroundTasks``) and never notices.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from enum import StrEnum
from typing import Any, Final

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pantheon_core.domain.events import TurnEvent
from pantheon_core.errors import InvalidInput, PantheonError
from pantheon_http.request_id import current_request_id

log = logging.getLogger("pantheon.http.streaming")

KEEPALIVE_S: Final = 15.0
STREAM_HEADERS: Final[Mapping[str, str]] = {"Cache-Control": "no-cache",
                                             "X-Accel-Buffering": "no"}


class StreamFormat(StrEnum):
    SSE = "text/event-stream"
    NDJSON = "application/x-ndjson"


_MEDIA: Final[Mapping[str, StreamFormat | None]] = {
    "text/event-stream": StreamFormat.SSE,
    "application/x-ndjson": StreamFormat.NDJSON,
    "application/ndjson": StreamFormat.NDJSON,
    "application/jsonl": StreamFormat.NDJSON,
    "application/json": None,
}


def negotiate(accept: str | None, *, default: StreamFormat | None) -> StreamFormat | None:
    """The format the client prefers among SSE, NDJSON and plain JSON (``None``).

    Highest ``q`` wins, ties go to the one listed first; wildcards and an absent or
    unrecognised ``Accept`` get ``default``.
    """
    best: tuple[float, int, StreamFormat | None] | None = None
    for index, part in enumerate((accept or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() not in _MEDIA:
            continue
        q = _quality(params)
        if q > 0 and (best is None or q > best[0]):
            best = (q, index, _MEDIA[media.lower()])
    return default if best is None else best[2]


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def resume_point(after: int, last_event_id: str | None) -> int:
    """Where to resume: ``?after=`` or ``Last-Event-ID``, whichever is further."""
    if last_event_id is None or not last_event_id.strip():
        return after
    try:
        seen = int(last_event_id.strip())
    except ValueError:
        seen = -1
    if seen < 0:
        raise InvalidInput("Last-Event-ID must be the seq of an event (0 or more).",
                           code="invalid_last_event_id", details={"last_event_id": last_event_id})
    return max(after, seen)


def encode_event(event: TurnEvent, fmt: StreamFormat) -> bytes:
    data = _json(event.to_dict())
    if fmt is StreamFormat.SSE:
        return f"id: {event.seq}\nevent: {event.type.value}\ndata: {data}\n\n".encode()
    return f"{data}\n".encode()


def encode_error(error: Mapping[str, Any], fmt: StreamFormat) -> bytes:
    data = _json({"error": dict(error)})
    if fmt is StreamFormat.SSE:
        return f"event: error\ndata: {data}\n\n".encode()
    return f"{data}\n".encode()


def encode_keepalive(fmt: StreamFormat) -> bytes:
    return b": keep-alive\n\n" if fmt is StreamFormat.SSE else b"\n"


def _json(value: Mapping[str, Any]) -> str:
    # Compact and on one line: json.dumps escapes newlines inside strings.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class TurnEventStream(Response):
    """Streams ``events`` in ``fmt`` until the terminal event, the client leaving, or an
    error (sent as the last frame)."""

    media_type = StreamFormat.SSE.value  # the default, for the OpenAPI document

    def __init__(self, events: AsyncIterator[TurnEvent], fmt: StreamFormat, *,
                 keepalive_s: float = KEEPALIVE_S,
                 headers: Mapping[str, str] | None = None) -> None:
        # Like Starlette's StreamingResponse: no ``body``, so no Content-Length header.
        self.status_code = 200
        self.media_type = fmt.value
        self.background = None
        self.init_headers({**STREAM_HEADERS, **(headers or {})})
        self.events = events
        self.fmt = fmt
        self.keepalive_s = keepalive_s
        self._failure: Mapping[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        sender, inbox = anyio.create_memory_object_stream[TurnEvent](max_buffer_size=256)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._read, sender)
                group.start_soon(_watch_disconnect, receive, group.cancel_scope)
                async with inbox:
                    await self._write(inbox, send)
                group.cancel_scope.cancel()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            return  # the client went away mid-write; the turn goes on without it

    async def _read(self, sender: ObjectSendStream[TurnEvent]) -> None:
        """Move events from the use case to the writer; remember why they stopped early."""
        async with sender:
            try:
                async for event in self.events:
                    await sender.send(event)
            except anyio.BrokenResourceError:
                pass  # the writer is done (terminal event sent, or the client left)
            except PantheonError as exc:
                self._failure = exc.to_dict()
            except Exception:  # this stream's last resort: end it with a typed frame
                log.exception("turn event stream failed (request %s)", current_request_id())
                self._failure = _internal_error()
            finally:
                await _close(self.events)

    async def _write(self, inbox: ObjectReceiveStream[TurnEvent], send: Send) -> None:
        while True:
            event: TurnEvent | None = None
            with anyio.move_on_after(self.keepalive_s):
                try:
                    event = await inbox.receive()
                except anyio.EndOfStream:
                    break
            if event is None:  # quiet for keepalive_s
                await self._body(send, encode_keepalive(self.fmt))
                continue
            await self._body(send, encode_event(event, self.fmt))
            if event.is_terminal:
                return
        if self._failure is not None:
            await self._body(send, encode_error(self._failure, self.fmt))

    @staticmethod
    async def _body(send: Send, chunk: bytes) -> None:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _close(events: AsyncIterator[TurnEvent]) -> None:
    """Finish the use case's generator now (releasing its subscription), not at GC."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True):
            await aclose()


def _internal_error() -> dict[str, Any]:
    request_id = current_request_id()
    return {"code": "internal_error",
            "message": "The event stream stopped on our side; resume from the last seq you saw.",
            "details": {"request_id": request_id}}


async def _watch_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return
