"""One measured phase: ``clients`` virtual clients for ``duration_s`` seconds.

Every client is one user (its own bearer token and room) on its own keep-alive
connection. It cycles through the five read endpoints (each client starting at a different
one); after each answer it "thinks" for ``think_s`` on average (uniformly 0.5-1.5 times
that; the clients' first requests are spread over one think time), like a person using the
web app. With ``think_s`` = 0 the loop is closed: the next request goes as soon as the last
answer is read, ``clients`` requests are always in flight and the phase measures the
server's capacity (then latency ≈ clients / throughput, by Little's law). A warm-up round
(every client asks each endpoint once, not measured) opens the connections and the
server's pools first.

With ``turns``, each client also sends one message to its room at a random moment of the
first ``turn_spread`` of the phase, on a second connection, with ``Accept:
text/event-stream``, and reads the stream to its last event — so the reads are measured
while up to ``clients`` turns stream. A send the turn limits refuse (503 ``server_busy``,
429 ``too_many_running_turns``/``rate_limited``, each with ``Retry-After``) is sent again
after the wait it names, as the web app would; the refusals are counted. A phase ends when
its time is up and every turn has ended (or ``turn_timeout_s`` more has passed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.api_load.client import Connection, connect
from bench.api_load.seed import SeededUser

ENDPOINTS: dict[str, str] = {
    "list_rooms": "/api/v1/rooms",
    "read_room": "/api/v1/rooms/{room}",
    "timeline": "/api/v1/rooms/{room}/timeline?limit=20",
    "wallet": "/api/v1/billing/wallet",
    "usage": "/api/v1/billing/usage",
}
TURN_MESSAGE = "Load test from client {n}: give me your take on the plan."
RETRYABLE = {"server_busy", "too_many_running_turns", "rate_limited"}


@dataclass
class TurnSample:
    ok: bool
    first_event_s: float | None = None
    first_text_s: float | None = None
    total_s: float | None = None
    end: str | None = None
    events: int = 0
    error: str | None = None
    refusals: dict[str, int] = field(default_factory=dict)  # retried after Retry-After


@dataclass
class Phase:
    """Everything one phase measured."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in ENDPOINTS})
    errors: dict[str, dict[str, int]] = field(default_factory=lambda: {k: {} for k in ENDPOINTS})
    turns: list[TurnSample] = field(default_factory=list)
    wall_s: float = 0.0
    reads_wall_s: float = 0.0
    client_cpu_s: float = 0.0  # the load generator's CPU while the reads ran
    warmup_errors: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    stale_retries: int = 0
    turns_cut: int = 0

    def error(self, endpoint: str, what: str) -> None:
        bucket = self.errors[endpoint]
        bucket[what] = bucket.get(what, 0) + 1


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if the phase ends first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:120]


async def _attempt(conn: Connection, user: SeededUser, n: int, sample: TurnSample,
                   began: float) -> tuple[str, float] | None:
    """One send with its stream read to the end, into ``sample``; a refusal the client
    should retry (the turn limits' 429/503) comes back as ``(code, seconds to wait)``."""
    async for event, data, _ in conn.stream(f"/api/v1/rooms/{user.room_id}/messages",
                                            {"content": TURN_MESSAGE.format(n=n)}):
        at = time.perf_counter() - began
        if event.startswith("http_"):
            with contextlib.suppress(ValueError, AttributeError):
                error = json.loads(data)["error"]
                if error["code"] in RETRYABLE:
                    return error["code"], float(error["details"].get("retry_after_s") or 1)
            sample.error = f"HTTP {event[5:]}: {data[:160].decode(errors='replace')}"
            sample.total_s = at
            return None
        sample.events += 1
        if sample.first_event_s is None:
            sample.first_event_s = at
        if event == "step_delta" and sample.first_text_s is None:
            sample.first_text_s = at
        if event in ("turn_completed", "turn_failed"):
            sample.end, sample.total_s = event, at
            status = (json.loads(data).get("data") or {}).get("status")
            if event == "turn_completed" and status in (None, "completed"):
                sample.ok = True
            else:
                sample.error = f"{event}: {data[:160].decode(errors='replace')}"
            return None
    sample.error = sample.error or "the stream ended without turn_completed/turn_failed"
    return None


async def _turn(kind: str, host: str, port: int, user: SeededUser, n: int, delay_s: float,
                deadline: float, phase: Phase) -> None:
    """Send one message and read its stream to the end, as a client would: a refusal by
    the turn limits (``Retry-After``) is retried after the wait it names, until
    ``deadline``. Times run from the first attempt: what the user waits."""
    await asyncio.sleep(delay_s)
    conn = connect(kind, host, port, user.token)
    sample = TurnSample(ok=False)
    began = time.perf_counter()
    try:
        while (refused := await _attempt(conn, user, n, sample, began)) is not None:
            code, wait_s = refused
            sample.refusals[code] = sample.refusals.get(code, 0) + 1
            if time.perf_counter() + wait_s > deadline:
                sample.error = f"refused ({code}) until the turn timeout"
                break
            await asyncio.sleep(wait_s)
    except Exception as exc:
        sample.error = _describe(exc)
    finally:
        if not sample.ok and sample.error is None:
            sample.error = "cut: not ended within the turn timeout"
        phase.turns.append(sample)
        await conn.close()


async def run_phase(kind: str, host: str, port: int, users: Sequence[SeededUser], *,
                    clients: int, duration_s: float, turns: bool, think_s: float = 0.0,
                    turn_spread: float = 0.6,
                    turn_timeout_s: float = 120.0, seed: int = 0,
                    during: Callable[[], None] | None = None) -> Phase:
    """Drive one phase; ``during`` is called once, halfway through (a /metrics scrape)."""
    phase = Phase()
    rng = random.Random(seed)
    names = list(ENDPOINTS)
    conns = [connect(kind, host, port, users[i].token) for i in range(clients)]
    paths = [{k: v.format(room=users[i].room_id) for k, v in ENDPOINTS.items()}
             for i in range(clients)]

    async def warm(i: int) -> None:
        for name in names:
            try:
                answer = await conns[i].get(paths[i][name])
                if answer.status != 200:
                    key = f"{name}: HTTP {answer.status}"
                    phase.warmup_errors[key] = phase.warmup_errors.get(key, 0) + 1
            except Exception as exc:
                key = f"{name}: {_describe(exc)}"
                phase.warmup_errors[key] = phase.warmup_errors.get(key, 0) + 1

    await asyncio.gather(*(warm(i) for i in range(clients)))

    stop = asyncio.Event()

    async def client(i: int) -> None:
        conn, mine = conns[i], paths[i]
        k = i % len(names)
        pause = random.Random(seed * 100_003 + i)
        if think_s > 0:
            await _pause(stop, pause.uniform(0, think_s))
        first = True
        while not stop.is_set():
            if think_s > 0 and not first:
                await _pause(stop, pause.uniform(0.5 * think_s, 1.5 * think_s))
                if stop.is_set():
                    break
            first = False
            name = names[k]
            k = (k + 1) % len(names)
            began = time.perf_counter()
            try:
                answer = await conn.get(mine[name])
            except Exception as exc:
                if not stop.is_set():
                    phase.error(name, _describe(exc))
                continue
            if answer.status == 200:
                phase.latencies[name].append(time.perf_counter() - began)
            else:
                phase.error(name, f"HTTP {answer.status}: "
                                  f"{answer.body[:120].decode(errors='replace')}")

    cpu0, t0 = _cpu(), time.perf_counter()
    readers = [asyncio.create_task(client(i)) for i in range(clients)]
    deadline = t0 + duration_s + turn_timeout_s
    streamers = [asyncio.create_task(_turn(kind, host, port, users[i], i,
                                           rng.uniform(0, duration_s * turn_spread), deadline,
                                           phase))
                 for i in range(clients)] if turns else []
    if during is not None:
        await asyncio.sleep(duration_s / 2)
        await asyncio.to_thread(during)
        await asyncio.sleep(max(0.0, duration_s - (time.perf_counter() - t0)))
    else:
        await asyncio.sleep(duration_s)
    stop.set()
    # Requests in flight when time is up finish (and count); none start after.
    await asyncio.gather(*readers, return_exceptions=True)
    phase.reads_wall_s = time.perf_counter() - t0
    phase.client_cpu_s = _cpu() - cpu0
    if streamers:
        _, pending = await asyncio.wait(streamers, timeout=max(0.0, deadline
                                                                 - time.perf_counter()) + 5)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        phase.turns_cut = len(pending)
    phase.wall_s = time.perf_counter() - t0
    phase.reconnects = sum(c.reconnects for c in conns)
    phase.stale_retries = sum(c.stale_retries for c in conns)
    await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
    return phase
