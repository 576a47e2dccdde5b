"""A fake OpenRouter on 127.0.0.1: OpenAI-compatible chat completions streamed as SSE.

It speaks OpenRouter's wire format (real chunk shapes, a final usage chunk with ``cost`` and
``prompt_tokens_details.cached_tokens``, ``: OPENROUTER PROCESSING`` keep-alive comments,
``{"error": ...}`` events after HTTP 200, JSON error bodies) so that the real adapter can be
tested without the network.

In tests::

    with serving(FakeOpenRouter()) as fake:
        fake.script(text_reply(["Hel", "lo"], cached_tokens=10, cost=0.0001))
        ...  # point the adapter at fake.base_url
        fake.requests[0].body["model"]

Each request takes the next scripted :class:`Reply`; when none is left, ``default`` builds
one from the request (no default: an HTTP 500 saying the script ran out). Standalone, for
benchmarks, every request gets the same timing profile::

    python -m tests.integration.fake_openrouter --port 9999 --ttft-ms 200 --tokens 100 --token-ms 10
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.integration.local_server import Received, serve_in_thread

MODEL = "qwen/qwen3-32b"
KEEPALIVE = b": OPENROUTER PROCESSING\n\n"
DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class Pause:
    """Send nothing for this long (the client sees a gap between reads)."""

    seconds: float


class Drop:
    """Cut the connection here: the client sees an incomplete chunked body."""


DROP = Drop()
Part = bytes | Pause | Drop


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted HTTP answer: status, headers, then body parts sent in order.

    ``delay_s`` holds back even the status line (a provider that never answers).
    """

    status: int = 200
    parts: tuple[Part, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "text/event-stream"
    delay_s: float = 0.0


class Chunks:
    """SSE frames in OpenRouter's shapes for one generation."""

    _ids = itertools.count(1)

    def __init__(self, *, model: str = MODEL, upstream: str = "Groq",
                 generation_id: str | None = None) -> None:
        self.generation_id = generation_id or f"gen-{int(time.time())}-{next(self._ids):06d}"
        self._head = {"id": self.generation_id, "provider": upstream, "model": model,
                      "object": "chat.completion.chunk", "created": int(time.time())}

    def delta(self, **delta: Any) -> bytes:
        return self._choice({"role": "assistant", **delta}, finish_reason=None)

    def finish(self, reason: str = "stop") -> bytes:
        return self._choice({"role": "assistant", "content": ""}, finish_reason=reason)

    def usage(self, *, prompt_tokens: int, completion_tokens: int,
              cached_tokens: int | None = None, cost: float | None = None) -> bytes:
        usage: dict[str, Any] = {"prompt_tokens": prompt_tokens,
                                 "completion_tokens": completion_tokens,
                                 "total_tokens": prompt_tokens + completion_tokens}
        if cost is not None:
            usage["cost"] = cost
            usage["is_byok"] = False
        if cached_tokens is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
        usage["completion_tokens_details"] = {"reasoning_tokens": 0}
        return sse({**self._head, "choices": [], "usage": usage})

    def error(self, *, code: int | str, message: str) -> bytes:
        return sse({**self._head, "error": {"code": code, "message": message},
                    "choices": [{"index": 0, "delta": {"content": ""},
                                 "finish_reason": "error"}]})

    def _choice(self, delta: dict[str, Any], *, finish_reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason,
                  "native_finish_reason": finish_reason, "logprobs": None}
        return sse({**self._head, "choices": [choice]})


def sse(payload: object) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def text_reply(words: Sequence[str], *, prompt_tokens: int = 20,
               completion_tokens: int | None = None, cached_tokens: int | None = None,
               cost: float | None = None, keepalives: int = 0, keepalive_every: int = 0,
               ttft_s: float = 0.0, token_s: float = 0.0, finish_reason: str = "stop",
               with_usage: bool = True, with_done: bool = True,
               chunks: Chunks | None = None) -> Reply:
    """A normal stream: keep-alives, one chunk per word, finish, usage chunk, ``[DONE]``.

    ``keepalive_every`` > 0 puts a comment line after every that many words.
    """
    ch = chunks or Chunks()
    parts: list[Part] = [KEEPALIVE] * keepalives
    if ttft_s:
        parts.append(Pause(ttft_s))
    for n, word in enumerate(words, start=1):
        parts += [ch.delta(content=word)]
        if keepalive_every and n % keepalive_every == 0:
            parts.append(KEEPALIVE)
        if n < len(words) and token_s:
            parts.append(Pause(token_s))
    parts.append(ch.finish(finish_reason))
    if with_usage:
        used = len(words) if completion_tokens is None else completion_tokens
        parts.append(ch.usage(prompt_tokens=prompt_tokens, completion_tokens=used,
                              cached_tokens=cached_tokens, cost=cost))
    if with_done:
        parts.append(DONE)
    return Reply(parts=tuple(parts))


def tool_calls_reply(calls: Sequence[tuple[str, str, str]], *, pieces: int = 3,
                     text: str = "", prompt_tokens: int = 40, completion_tokens: int = 12,
                     cached_tokens: int | None = None, cost: float | None = None,
                     finish_reason: str = "tool_calls") -> Reply:
    """Tool calls ``(id, name, arguments)`` streamed as fragments, arguments in ``pieces``."""
    ch = Chunks()
    parts: list[Part] = [ch.delta(content=text)] if text else []
    for index, (call_id, name, arguments) in enumerate(calls):
        parts.append(ch.delta(content=None, tool_calls=[{
            "index": index, "id": call_id, "type": "function",
            "function": {"name": name, "arguments": ""}}]))
        for piece in _split(arguments, pieces):
            parts.append(ch.delta(content=None, tool_calls=[{
                "index": index, "type": "function", "function": {"arguments": piece}}]))
    parts += [ch.finish(finish_reason),
              ch.usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                       cached_tokens=cached_tokens, cost=cost), DONE]
    return Reply(parts=tuple(parts))


def mid_stream_error_reply(words: Sequence[str], *, code: int | str = 502,
                           message: str = "Provider returned error",
                           usage_before_error: bool = False) -> Reply:
    """HTTP 200, some text, then an ``error`` event (as OpenRouter reports upstream failures)."""
    ch = Chunks()
    parts: list[Part] = [ch.delta(content=word) for word in words]
    if usage_before_error:
        parts.append(ch.usage(prompt_tokens=20, completion_tokens=len(words)))
    parts += [ch.error(code=code, message=message), DONE]
    return Reply(parts=tuple(parts))


def http_error_reply(status: int, message: str, *, retry_after: str | None = None,
                     metadata: Mapping[str, Any] | None = None) -> Reply:
    """An error before any streaming, with OpenRouter's JSON error body."""
    error: dict[str, Any] = {"code": status, "message": message}
    if metadata:
        error["metadata"] = dict(metadata)
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(status=status, parts=(json.dumps({"error": error}).encode(),),
                 headers=headers, content_type="application/json")


def hung_reply(seconds: float, *, before_headers: bool = False) -> Reply:
    """Nothing for ``seconds`` (after the headers, or instead of them), then a normal stream."""
    normal = text_reply(["late"])
    if before_headers:
        return Reply(parts=normal.parts, delay_s=seconds)
    return Reply(parts=(Pause(seconds), *normal.parts))


def dropped_reply(words: Sequence[str]) -> Reply:
    """Some text, then the connection is cut: no finish, no usage, no ``[DONE]``."""
    ch = Chunks()
    return Reply(parts=(*(ch.delta(content=word) for word in words), DROP))


def profile_reply(received: Received, *, ttft_ms: float, tokens: int,
                  token_ms: float) -> Reply:
    """A benchmark stream: fixed time to first token and token rate, usage sized to fit."""
    prompt_chars = sum(len(str(m.get("content") or "")) for m in received.body.get("messages", []))
    words = [_LOREM[i % len(_LOREM)] + " " for i in range(tokens)]
    return text_reply(words, prompt_tokens=max(1, prompt_chars // 4), ttft_s=ttft_ms / 1000,
                      token_s=token_ms / 1000, cost=tokens * 2e-7,
                      chunks=Chunks(model=str(received.body.get("model") or MODEL)))


class FakeOpenRouter:
    """The fake's handle: scripted replies (first in, first out) and the requests received."""

    def __init__(self, default: Callable[[Received], Reply] | None = None) -> None:
        self.default = default
        self.base_url = ""
        self.requests: list[Received] = []
        self._script: deque[Reply] = deque()
        routes = [Route(f"{prefix}/chat/completions", self._completions, methods=["POST"])
                  for prefix in ("/api/v1", "/v1", "")]
        routes += [Route(f"{prefix}/models", self._models, methods=["GET"])
                   for prefix in ("/api/v1", "/v1")]
        routes += [Route(f"{prefix}/generation", self._generation, methods=["GET"])
                   for prefix in ("/api/v1", "/v1")]
        self.app = Starlette(routes=routes)
        self.generations: dict[str, dict[str, Any]] = {}  # id -> OpenRouter's stats record

    def script(self, *replies: Reply) -> None:
        self._script.extend(replies)

    def reset(self) -> None:
        self._script.clear()
        self.requests.clear()

    def _next(self, received: Received) -> Reply:
        if self._script:
            return self._script.popleft()
        if self.default is not None:
            return self.default(received)
        return http_error_reply(500, "fake_openrouter: no scripted reply left")

    async def _completions(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": {"code": 400, "message": "invalid JSON"}}, 400)
        received = Received(request.url.path, dict(request.headers), body)
        self.requests.append(received)
        reply = self._next(received)
        if reply.delay_s and not await _pause_unless_gone(request, reply.delay_s):
            return Response(status_code=499)
        if reply.content_type != "text/event-stream":
            content = b"".join(p for p in reply.parts if isinstance(p, bytes))
            return Response(content, reply.status, dict(reply.headers), reply.content_type)
        return StreamingResponse(_send(reply.parts), reply.status, dict(reply.headers),
                                 media_type=reply.content_type)

    async def _generation(self, request: Request) -> Response:
        record = self.generations.get(request.query_params.get("id", ""))
        if record is None:
            return JSONResponse({"error": {"code": 404, "message": "Generation not found"}},
                                404)
        return JSONResponse({"data": record})

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model"}]})


class DroppedConnection(Exception):
    """Raised inside a response body so that uvicorn aborts the connection."""


async def _send(parts: Sequence[Part]) -> AsyncIterator[bytes]:
    # Starlette cancels this generator when the client disconnects, so pauses end early.
    for part in parts:
        if isinstance(part, Pause):
            await anyio.sleep(part.seconds)
        elif isinstance(part, Drop):
            raise DroppedConnection("scripted connection drop")
        else:
            yield part


async def _pause_unless_gone(request: Request, seconds: float) -> bool:
    """Sleep before answering; False as soon as the client has hung up."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if await request.is_disconnected():
            return False
        await anyio.sleep(min(left, 0.02))
    return True


def _split(text: str, pieces: int) -> list[str]:
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


_LOREM = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")


class _QuietDrops(logging.Filter):
    """Keep scripted drops out of uvicorn's error log; real faults still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, BaseExceptionGroup):
            return exc.subgroup(DroppedConnection) is None
        return not isinstance(exc, DroppedConnection)


_QUIET_DROPS = _QuietDrops()


@contextmanager
def serving(fake: FakeOpenRouter, *, host: str = "127.0.0.1",
            port: int = 0) -> Iterator[FakeOpenRouter]:
    """Run ``fake`` with uvicorn in a background thread; ``fake.base_url`` is set inside."""
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)
    with serve_in_thread(fake.app, name="fake-openrouter", host=host, port=port) as base:
        fake.base_url = f"{base}/api/v1"
        yield fake


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--ttft-ms", type=float, default=200.0)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--token-ms", type=float, default=10.0)
    args = parser.parse_args(argv)

    def profile(received: Received) -> Reply:
        return profile_reply(received, ttft_ms=args.ttft_ms, tokens=args.tokens,
                             token_ms=args.token_ms)

    fake = FakeOpenRouter(default=profile)
    print(f"fake OpenRouter: http://{args.host}:{args.port}/api/v1 "
          f"(ttft {args.ttft_ms} ms, {args.tokens} tokens every {args.token_ms} ms)", flush=True)
    uvicorn.run(fake.app, host=args.host, port=args.port, log_level="warning",
                access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
