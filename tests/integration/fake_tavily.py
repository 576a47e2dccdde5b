"""A fake Tavily on 127.0.0.1: ``POST /search`` in Tavily's wire format.

Requests are read as tavily-python sends them (JSON body, ``Authorization: Bearer KEY``);
answers have Tavily's shapes: ``{"query", "answer", "results": [...], "response_time"}`` on
success, ``{"detail": {"error": "..."}}`` on failure. In tests::

    with serving(FakeTavily()) as fake:
        fake.script(error_reply(429, "slow down", retry_after="1"), results_reply(hits))
        ...  # point the adapter at fake.base_url
        fake.requests[0].body["query"]

Each request takes the next scripted :class:`Reply`; with none left, a 500 says so.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.integration.local_server import Received, serve_in_thread


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer; ``delay_s`` holds back even the status line (a hung provider)."""

    status: int = 200
    body: bytes | Mapping[str, Any] = b""  # a mapping is sent as JSON
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def hit(title: str, url: str, content: str, score: float = 0.9) -> dict[str, Any]:
    return {"title": title, "url": url, "content": content, "score": score,
            "raw_content": None}


def results_reply(hits: Sequence[Mapping[str, Any]], *, answer: str | None = None,
                  query: str = "") -> Reply:
    """A successful search; ``query`` is echoed from the request when left empty."""
    payload = {"query": query or None, "follow_up_questions": None, "answer": answer, "images": [],
               "results": list(hits), "response_time": 0.42, "request_id": "req-fake"}
    return Reply(body=payload)


def error_reply(status: int, message: str, *, retry_after: str | None = None) -> Reply:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(status=status, body={"detail": {"error": message}}, headers=headers)


def hung_reply(seconds: float) -> Reply:
    return Reply(body=results_reply([hit("late", "https://late.example", "late")]).body,
                 delay_s=seconds)


def malformed_reply() -> Reply:
    return Reply(body=b'{"query": "x", "results": [{"title": ')


class FakeTavily:
    """The fake's handle: scripted replies (first in, first out) and the requests received."""

    def __init__(self) -> None:
        self.base_url = ""
        self.requests: list[Received] = []
        self._script: deque[Reply] = deque()
        self.app = Starlette(routes=[Route("/search", self._search, methods=["POST"])])

    def script(self, *replies: Reply) -> None:
        self._script.extend(replies)

    async def _search(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return Response(json.dumps({"detail": {"error": "Invalid JSON"}}), 400,
                            media_type="application/json")
        self.requests.append(Received(request.url.path, dict(request.headers), body))
        reply = self._script.popleft() if self._script else error_reply(
            500, "fake_tavily: no scripted reply left")
        if reply.delay_s and not await _pause_unless_gone(request, reply.delay_s):
            return Response(status_code=499)
        content = reply.body
        if isinstance(content, Mapping):
            if "query" in content and content["query"] is None:
                content = {**content, "query": body.get("query")}
            content = json.dumps(content).encode()
        return Response(content, reply.status, dict(reply.headers), "application/json")


async def _pause_unless_gone(request: Request, seconds: float) -> bool:
    """Sleep before answering; False as soon as the client has hung up."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if await request.is_disconnected():
            return False
        await anyio.sleep(min(left, 0.02))
    return True


@contextmanager
def serving(fake: FakeTavily, *, host: str = "127.0.0.1") -> Iterator[FakeTavily]:
    """Run ``fake`` with uvicorn in a background thread on a free port; sets ``base_url``."""
    with serve_in_thread(fake.app, name="fake-tavily", host=host) as base_url:
        fake.base_url = base_url
        yield fake
