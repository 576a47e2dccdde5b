"""The load generator's HTTP client: one keep-alive HTTP/1.1 connection per virtual client.

Two interchangeable implementations, so the generator's own cost can be measured and
kept small next to the server's:

- :class:`RawConnection` (the default): a request written by hand onto an asyncio stream,
  the answer read by ``Content-Length`` or chunked framing — about as little work per
  request as Python allows;
- :class:`HttpxConnection`: an ``httpx.AsyncClient`` limited to one connection.

Both return an :class:`Answer` (status and body) for a JSON request, and yield
``(event, data, seconds since the request was sent)`` for a streamed turn (SSE).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class ConnectionClosed(ConnectionError):
    pass


class Connection(Protocol):
    async def get(self, path: str) -> Answer: ...

    def stream(self, path: str, body: dict[str, object]) -> AsyncIterator[
        tuple[str, bytes, float]]: ...

    async def close(self) -> None: ...


class RawConnection:
    """HTTP/1.1 over one socket, reopened if the server closes it."""

    def __init__(self, host: str, port: int, token: str, *, timeout_s: float = 60.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.reconnects = 0
        self.stale_retries = 0

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            if self._writer is not None:
                self.reconnects += 1
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    def _head(self, method: str, path: str, extra: str = "") -> bytes:
        return (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"{self._auth}{extra}\r\n").encode()

    async def _status_and_headers(self, reader: asyncio.StreamReader) -> tuple[
            int, dict[str, str]]:
        line = await reader.readline()
        if not line:
            raise ConnectionClosed("the server closed the connection")
        parts = line.split(b" ", 2)
        status = int(parts[1])
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    async def _chunks(self, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        while True:
            size_line = await reader.readline()
            if not size_line:
                raise ConnectionClosed("the connection closed inside a chunked body")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                await reader.readline()  # the blank line after the last chunk (no trailers)
                return
            chunk = await reader.readexactly(size)
            await reader.readexactly(2)
            yield chunk

    async def _body(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "content-length" in headers:
            return await reader.readexactly(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return b"".join([c async for c in self._chunks(reader)])
        return await reader.read()

    def _finish(self, headers: dict[str, str]) -> None:
        if headers.get("connection", "").lower() == "close" and self._writer is not None:
            self._writer.close()

    async def get(self, path: str) -> Answer:
        """One GET. If a kept-alive connection turns out closed before any byte of the
        answer (the server's keep-alive timer won the race with the request), the request
        is sent once more on a new connection, as browsers do for idempotent requests
        (RFC 9112 §9.3.1); ``stale_retries`` counts those. Time is the caller's to measure,
        retry included."""
        async with asyncio.timeout(self.timeout_s):
            reused = self._writer is not None and not self._writer.is_closing()
            try:
                return await self._get_once(path)
            except ConnectionClosed:
                if not reused:
                    raise
                self.stale_retries += 1
                return await self._get_once(path)

    async def _get_once(self, path: str) -> Answer:
        reader, writer = await self._open()
        try:
            writer.write(self._head("GET", path))
            status, headers = await self._status_and_headers(reader)
            body = await self._body(reader, headers)
        except BaseException:
            writer.close()
            raise
        self._finish(headers)
        return Answer(status, body)

    async def stream(self, path: str, body: dict[str, object]) -> AsyncIterator[
            tuple[str, bytes, float]]:
        payload = json.dumps(body).encode()
        reader, writer = await self._open()
        started = time.perf_counter()
        writer.write(self._head("POST", path, "Accept: text/event-stream\r\n"
                                "Content-Type: application/json\r\n"
                                f"Content-Length: {len(payload)}\r\n") + payload)
        try:
            status, headers = await self._status_and_headers(reader)
            if status >= 300:
                text = await self._body(reader, headers)
                yield f"http_{status}", text, time.perf_counter() - started
                self._finish(headers)
                return
            pending = b""
            event = ""
            async for chunk in self._chunks(reader):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    line = line.rstrip(b"\r")
                    if line.startswith(b"event:"):
                        event = line[6:].strip().decode()
                    elif line.startswith(b"data:"):
                        yield event, line[5:].strip(), time.perf_counter() - started
                    elif not line:
                        event = ""
        except BaseException:
            writer.close()
            raise
        self._finish(headers)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()


class HttpxConnection:
    """The same through ``httpx.AsyncClient`` with one keep-alive connection."""

    def __init__(self, host: str, port: int, token: str, *, timeout_s: float = 60.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=f"http://{host}:{port}",
            headers={"Authorization": f"Bearer {token}"} if token else {},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=httpx.Timeout(timeout_s, connect=10.0))
        self.reconnects = 0
        self.stale_retries = 0  # httpx retries a stale kept-alive connection itself

    async def get(self, path: str) -> Answer:
        response = await self._client.get(path)
        return Answer(response.status_code, response.content)

    async def stream(self, path: str, body: dict[str, object]) -> AsyncIterator[
            tuple[str, bytes, float]]:
        started = time.perf_counter()
        async with self._client.stream("POST", path, json=body,
                                       headers={"Accept": "text/event-stream"}) as response:
            if response.status_code >= 300:
                text = await response.aread()
                yield f"http_{response.status_code}", text, time.perf_counter() - started
                return
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    yield event, line[5:].strip().encode(), time.perf_counter() - started
                elif not line:
                    event = ""

    async def close(self) -> None:
        await self._client.aclose()


def connect(kind: str, host: str, port: int, token: str) -> RawConnection | HttpxConnection:
    if kind == "httpx":
        return HttpxConnection(host, port, token)
    return RawConnection(host, port, token)
