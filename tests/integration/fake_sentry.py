"""A fake Sentry ingestion endpoint on 127.0.0.1: keeps every envelope the SDK sends.

It speaks what the SDK's HTTP transport sends: ``POST /api/<project>/envelope/``, the body
gzip-compressed (or not), an envelope of newline-separated JSON: a header line, then for
each item a header line and a payload line.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.integration.local_server import serve_in_thread


@dataclass
class Envelope:
    raw: bytes  # decompressed, exactly as sent
    headers: dict[str, str]
    items: list[tuple[dict[str, Any], Any]]

    def events(self) -> list[dict[str, Any]]:
        return [payload for header, payload in self.items if header.get("type") == "event"]


@dataclass
class FakeSentry:
    url: str = ""
    envelopes: list[Envelope] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def dsn(self, project: int = 42) -> str:
        host = self.url.removeprefix("http://")
        return f"http://public0123456789abcdef@{host}/{project}"

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [event for envelope in self.envelopes for event in envelope.events()]

    def raw(self) -> bytes:
        with self._lock:
            return b"\n".join(envelope.raw for envelope in self.envelopes)

    def wait_for_events(self, count: int, *, timeout_s: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while len(events := self.events()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"Sentry got {len(events)} event(s), expected {count}")
            time.sleep(0.02)
        return events

    async def receive(self, request: Request) -> JSONResponse:
        body = await request.body()
        encoding = request.headers.get("content-encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        with self._lock:
            self.envelopes.append(parse_envelope(body, dict(request.headers)))
        return JSONResponse({"id": "0" * 32})


def parse_envelope(body: bytes, headers: dict[str, str]) -> Envelope:
    lines = body.split(b"\n")
    items: list[tuple[dict[str, Any], Any]] = []
    index = 1
    while index < len(lines) and lines[index].strip():
        item_header = json.loads(lines[index])
        payload = lines[index + 1] if index + 1 < len(lines) else b""
        try:
            parsed: Any = json.loads(payload)
        except ValueError:
            parsed = payload
        items.append((item_header, parsed))
        index += 2
    return Envelope(raw=body, headers=headers, items=items)


@contextmanager
def fake_sentry() -> Iterator[FakeSentry]:
    sentry = FakeSentry()
    app = Starlette(routes=[Route("/api/{project}/envelope/", sentry.receive,
                                  methods=["POST"])])
    with serve_in_thread(app, name="fake-sentry") as url:
        sentry.url = url
        yield sentry
