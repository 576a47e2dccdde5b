"""The load: virtual users sending streamed turns, and what one turn measured.

Each driver times one streamed request from just before it is sent:
``ttft`` = the first chunk that carries answer text (a ``step_delta`` event with text
for Pantheon, a ``choices[0].delta.content`` chunk for OpenAI-style streams), ``total`` =
the end of the answer (Pantheon's ``turn_completed``/``turn_failed`` event, ``[DONE]``
for OpenAI-style streams; the end of the body if those never come).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx


@dataclass
class Sample:
    ok: bool
    ttft_s: float | None
    total_s: float
    chunks: int
    error: str | None = None
    turn_id: str | None = None


Turn = Callable[[int, int], Awaitable[Sample]]  # (virtual user, turn number) -> Sample


def client_for(concurrency: int, *, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    size = concurrency + 8
    return httpx.AsyncClient(
        headers=headers or {},
        limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
        timeout=httpx.Timeout(60.0, connect=10.0))


async def openai_stream(client: httpx.AsyncClient, url: str, model: str,
                        message: str) -> Sample:
    """One ``stream=true`` chat completion (the provider itself or the LiteLLM proxy)."""
    body = {"model": model, "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": message}]}
    start = time.perf_counter()
    ttft: float | None = None
    chunks = 0
    try:
        async with client.stream("POST", url, json=body) as response:
            if response.status_code != 200:
                await response.aread()
                return Sample(False, None, time.perf_counter() - start, 0,
                              f"HTTP {response.status_code}: {response.text[:200]}")
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                chunks += 1
                if ttft is None:
                    choices = json.loads(payload).get("choices") or []
                    if choices and (choices[0].get("delta") or {}).get("content"):
                        ttft = time.perf_counter() - start
    except (httpx.HTTPError, ValueError) as exc:
        return Sample(False, ttft, time.perf_counter() - start, chunks,
                      f"{type(exc).__name__}: {exc}")
    total = time.perf_counter() - start
    return Sample(ttft is not None, ttft, total, chunks,
                  None if ttft is not None else "no text in the stream")


async def pantheon_turn(client: httpx.AsyncClient, base_url: str, session_id: str,
                        message: str) -> Sample:
    """One direct-chat message streamed back as SSE, until the turn's last event."""
    url = f"{base_url}/api/v1/direct-sessions/{session_id}/messages"
    start = time.perf_counter()
    ttft: float | None = None
    chunks = 0
    turn_id: str | None = None
    event = ""
    end: str | None = None
    failure: str | None = None
    try:
        async with client.stream("POST", url, json={"content": message},
                                 headers={"Accept": "text/event-stream"}) as response:
            if response.status_code >= 300:
                await response.aread()
                return Sample(False, None, time.perf_counter() - start, 0,
                              f"HTTP {response.status_code}: {response.text[:200]}")
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                    continue
                if not line.startswith("data:"):
                    if not line:
                        event = ""
                    continue
                chunks += 1
                if event == "step_delta" and ttft is None:
                    if (json.loads(line[5:]).get("data") or {}).get("text"):
                        ttft = time.perf_counter() - start
                elif event == "turn_started" and turn_id is None:
                    turn_id = json.loads(line[5:]).get("turn_id")
                elif event in ("turn_completed", "turn_failed"):
                    end = event
                    data = json.loads(line[5:]).get("data") or {}
                    status = data.get("status")
                    if event == "turn_failed" or status not in (None, "completed"):
                        failure = f"{event}: {json.dumps(data)[:200]}"
                    break
    except (httpx.HTTPError, ValueError) as exc:
        return Sample(False, ttft, time.perf_counter() - start, chunks,
                      f"{type(exc).__name__}: {exc}", turn_id)
    total = time.perf_counter() - start
    if end is None:
        failure = failure or "the stream ended without turn_completed/turn_failed"
    elif ttft is None:
        failure = failure or "no step_delta with text"
    return Sample(failure is None, ttft, total, chunks, failure, turn_id)


async def drive(concurrency: int, turns: int, turn: Turn, *, timeout_s: float) -> tuple[
        list[Sample], float, bool]:
    """``concurrency`` virtual users take turns until ``turns`` are done (or time runs out).

    Returns the samples, the wall time and whether the time limit cut the level short.
    """
    samples: list[Sample] = []
    numbers = itertools.count()

    async def virtual_user(user: int) -> None:
        while (n := next(numbers)) < turns:
            samples.append(await turn(user, n))

    start = time.perf_counter()
    tasks = [asyncio.create_task(virtual_user(u)) for u in range(concurrency)]
    done, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    return samples, time.perf_counter() - start, bool(pending)
