"""A bare HTTP/1.1 server on 127.0.0.1 that can misbehave the way real networks do.

uvicorn (``tests/integration/local_server.py``) always answers something: an app that
raises before its first byte gets a 500. Resilience tests also need a connection reset
before any byte of the answer, a status line that never comes, and a body cut in the
middle, so this server writes its answers itself, byte by byte, on asyncio streams.

It serves :class:`~tests.integration.fake_openrouter.Reply` objects (status, headers, body
parts with pauses and drops) and :data:`RESET` (a TCP reset instead of an answer). Event
streams go out chunked on a keep-alive connection, as OpenRouter sends them; a pause ends
early when the client hangs up, so a client timeout never leaves the server busy.

In tests::

    with serving(handler) as base_url:   # handler(Request) -> Reply | Reset
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from tests.integration.fake_openrouter import Drop, Pause, Reply

MAX_HEADER_BYTES = 64 * 1024


class Reset:
    """Abort the connection with a TCP RST (``SO_LINGER`` 0) before any byte of the answer."""


RESET = Reset()


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any]


Handler = Callable[[Request], Awaitable[Reply | Reset]]


class _ClientGone(Exception):
    """The client closed its end while the server was pausing or writing."""


async def _pause(reader: asyncio.StreamReader, seconds: float) -> None:
    """Wait ``seconds``, or less if the client hangs up (it sends nothing else meanwhile:
    HTTP/1.1 clients do not pipeline, so any read that ends means it is gone)."""
    try:
        data = await asyncio.wait_for(reader.read(1), timeout=seconds)
    except TimeoutError:
        return
    if not data:
        raise _ClientGone


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _head(status: int, headers: dict[str, str]) -> bytes:
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Status"
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection; None when the client closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    if len(head) > MAX_HEADER_BYTES:
        return None
    line, *fields = head.decode("latin-1").split("\r\n")
    method, path, _version = line.split(" ", 2)
    headers = {}
    for field in fields:
        if field:
            name, _, value = field.partition(":")
            headers[name.strip().lower()] = value.strip()
    raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {"_unparsable": raw.decode("utf-8", errors="replace")}
    return Request(method, path, headers, body if isinstance(body, dict) else {"_body": body})


async def _send(reply: Reply, reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter) -> bool:
    """Write ``reply``; False when the connection must close afterwards (a drop)."""
    if reply.delay_s:
        await _pause(reader, reply.delay_s)
    headers = {"Content-Type": reply.content_type, **reply.headers}
    if reply.content_type != "text/event-stream":
        content = b"".join(p for p in reply.parts if isinstance(p, bytes))
        writer.write(_head(reply.status, {**headers, "Content-Length": str(len(content))})
                     + content)
        await writer.drain()
        return True
    writer.write(_head(reply.status, {**headers, "Cache-Control": "no-cache",
                                      "Transfer-Encoding": "chunked"}))
    await writer.drain()
    for part in reply.parts:
        if isinstance(part, Pause):
            await _pause(reader, part.seconds)
        elif isinstance(part, Drop):
            return False
        else:
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


class FaultServer:
    """Serves ``handler``'s answers; one task per connection, keep-alive until a fault."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._connections: set[asyncio.Task[None]] = set()

    async def connection(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while (request := await _read_request(reader)) is not None:
                answer = await self.handler(request)
                if isinstance(answer, Reset):
                    _reset(writer)
                    return
                if not await _send(answer, reader, writer):
                    break
        except (_ClientGone, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(task)
            if not writer.transport.is_closing():
                writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def close_connections(self) -> None:
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)


@contextmanager
def serving(handler: Handler, *, name: str = "fault-server") -> Iterator[str]:
    """Run a :class:`FaultServer` on its own event loop in a daemon thread; yields
    ``http://127.0.0.1:PORT``. Leaving stops it, cutting the connections still open."""
    loop = asyncio.new_event_loop()
    server = FaultServer(handler)
    started = threading.Event()
    stop = asyncio.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        listener = await asyncio.start_server(server.connection, "127.0.0.1", 0)
        box["port"] = listener.sockets[0].getsockname()[1]
        started.set()
        async with listener:
            await stop.wait()
            listener.close()
            await server.close_connections()

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # reported to the test thread below
            box["error"] = exc
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    if not started.wait(10) or "error" in box:
        raise RuntimeError(f"the {name} server did not start: {box.get('error')}")
    try:
        yield f"http://127.0.0.1:{box['port']}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
