"""A fake OpenRouter that fails on purpose: scripted or seeded faults, request by request.

Every chat completion request is identified by its **call key** — the turn's tag (``[t07]``
in the user's message), what the call is for (``plan``, ``synthesis``, ``summary`` or
``worker``) and, for a worker, the agent's name — and by its attempt number for that key.
The fault for ``(key, attempt)`` comes from the script when it names one, otherwise from a
generator seeded with ``(seed, key, attempt)``. So a turn meets the same faults in the same
order whatever the other turns do and however their requests interleave: a storm of
concurrent turns is reproducible.

Faults, on OpenRouter's wire format (``tests/integration/fake_openrouter.py``)::

    ok                  a normal stream with keep-alives, a usage chunk (with cost), [DONE]
    rate_limited        HTTP 429 + Retry-After, OpenRouter's JSON error body
    server_error        HTTP 500            bad_gateway   HTTP 502
    unavailable         HTTP 503 + Retry-After
    reset               TCP reset before any byte of the answer
    hang_before_headers no status line at all (the client's first-token deadline ends it)
    hang_before_token   HTTP 200, keep-alive comments, then silence
    hang_mid_stream     some text, then silence
    drop_mid_stream     some text, then the connection is cut (no finish, usage or [DONE])
    malformed_chunk     some text, then a ``data:`` line that is not JSON
    missing_usage       a complete answer without the usage chunk
    stream_error        some text, then OpenRouter's ``{"error": …}`` event (HTTP 200)

The fake's own log (:attr:`FaultyOpenRouter.served`) records every request it received with
the ``X-Request-ID`` the adapter sent — the id the engine writes on the attempt's usage row.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tests.integration.fake_openrouter import (
    DONE,
    DROP,
    KEEPALIVE,
    Chunks,
    Pause,
    Reply,
    http_error_reply,
    mid_stream_error_reply,
    text_reply,
)
from tests.resilience.fault_server import RESET, Request, Reset
from tests.resilience.fault_server import serving as serving_faults

TAG = re.compile(r"\[(t\d+)\]")
ROSTER_MARKER = "Roster (JSON):\n"
HANG_S = 60.0  # far beyond every client deadline: the client always gives up first


class Fault(StrEnum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    BAD_GATEWAY = "bad_gateway"
    UNAVAILABLE = "unavailable"
    RESET = "reset"
    HANG_BEFORE_HEADERS = "hang_before_headers"
    HANG_BEFORE_TOKEN = "hang_before_token"
    HANG_MID_STREAM = "hang_mid_stream"
    DROP_MID_STREAM = "drop_mid_stream"
    MALFORMED_CHUNK = "malformed_chunk"
    MISSING_USAGE = "missing_usage"
    STREAM_ERROR = "stream_error"


# Faults answered before any text: the engine may retry them (and must meter each attempt).
BEFORE_TEXT = frozenset({Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.BAD_GATEWAY,
                         Fault.UNAVAILABLE, Fault.RESET, Fault.HANG_BEFORE_HEADERS,
                         Fault.HANG_BEFORE_TOKEN})

# A storm where about half the requests fail, each fault about equally often.
STORM_WEIGHTS: Mapping[Fault, int] = {fault: 4 for fault in Fault} | {Fault.OK: 48}


@dataclass(frozen=True, slots=True)
class Served:
    """One request as the fake saw it, and the fault it answered with."""

    request_id: str | None
    key: str
    attempt: int  # 1 for the first request with this key
    fault: Fault
    model: str


@dataclass
class FaultPlan:
    """Which fault answers the ``attempt``-th request of a call ``key``.

    ``script`` maps a key to the faults of its first attempts (after them: the seeded
    choice); ``weights`` are the seeded choice's odds. ``stream_pause_s`` spaces the words
    of every answer (a slow provider)."""

    seed: int = 0
    weights: Mapping[Fault, int] = field(default_factory=lambda: {Fault.OK: 1})
    script: Mapping[str, Sequence[Fault]] = field(default_factory=dict)
    stream_pause_s: float = 0.0

    def fault(self, key: str, attempt: int) -> Fault:
        scripted = self.script.get(key, ())
        if attempt <= len(scripted):
            return scripted[attempt - 1]
        faults = list(self.weights)
        chooser = random.Random(f"{self.seed}:{key}:{attempt}")
        return chooser.choices(faults, weights=[self.weights[f] for f in faults])[0]


def call_key(body: Mapping[str, Any]) -> str:
    """``t07:worker:Scout``, ``t07:plan``, ``t07:synthesis`` or ``t07:summary``."""
    messages = [m for m in body.get("messages", []) if isinstance(m, Mapping)]
    texts = [str(m.get("content") or "") for m in messages]
    tag = next((m.group(1) for t in texts if (m := TAG.search(t))), "untagged")
    system = next((t for m, t in zip(messages, texts, strict=True)
                   if m.get("role") == "system"), "")
    if ROSTER_MARKER in system:
        return f"{tag}:plan"
    if "write the final reply" in system:
        return f"{tag}:synthesis"
    if system.startswith("Summarise the conversation"):
        return f"{tag}:summary"
    name = re.match(r"You are ([^.\n]+)\.", system)
    return f"{tag}:worker:{name.group(1) if name else 'unknown'}"


def plan_json(system: str) -> str:
    """A valid routing plan naming every agent of the roster the prompt lists."""
    roster = json.loads(system.split(ROSTER_MARKER, 1)[1].split("\n", 1)[0])
    return json.dumps({"steps": [{"agent_id": a["agent_id"], "instruction": f"Help as {a['name']}.",
                                  "read_files": False} for a in roster],
                       "synthesis_brief": "Combine the answers."})


def answer_words(key: str, body: Mapping[str, Any]) -> list[str]:
    """What a healthy provider streams for this call: a plan, or a short answer."""
    if key.endswith(":plan"):
        system = str(body["messages"][0]["content"])
        text = plan_json(system)
        return [text[i:i + 24] for i in range(0, len(text), 24)]
    return [f"{word} " for word in ("Answer", "for", *key.split(":"), "done.")]


def reply_for(fault: Fault, key: str, body: Mapping[str, Any], *,
              pause_s: float = 0.0) -> Reply | Reset:
    model = str(body.get("model") or "")
    words = answer_words(key, body)
    usage = {"prompt_tokens": 40 + 4 * len(body.get("messages", [])),
             "completion_tokens": len(words), "cost": 2e-6 * len(words)}
    chunks = Chunks(model=model)
    head = [chunks.delta(content=w) for w in words[:2]]
    match fault:
        case Fault.OK:
            return text_reply(words, keepalives=1, keepalive_every=3, token_s=pause_s,
                              chunks=chunks, **usage)
        case Fault.RATE_LIMITED:
            return http_error_reply(429, "Rate limit exceeded: free-models-per-min",
                                    retry_after="1")
        case Fault.SERVER_ERROR:
            return http_error_reply(500, "Internal Server Error")
        case Fault.BAD_GATEWAY:
            return http_error_reply(502, "Provider returned error",
                                    metadata={"provider_name": "Groq"})
        case Fault.UNAVAILABLE:
            return http_error_reply(503, "No instances available", retry_after="1")
        case Fault.RESET:
            return RESET
        case Fault.HANG_BEFORE_HEADERS:
            return Reply(parts=text_reply(words, chunks=chunks).parts, delay_s=HANG_S)
        case Fault.HANG_BEFORE_TOKEN:
            return Reply(parts=(KEEPALIVE, KEEPALIVE, Pause(HANG_S), *head))
        case Fault.HANG_MID_STREAM:
            return Reply(parts=(KEEPALIVE, *head, Pause(HANG_S), DONE))
        case Fault.DROP_MID_STREAM:
            return Reply(parts=(KEEPALIVE, *head, DROP))
        case Fault.MALFORMED_CHUNK:
            return Reply(parts=(*head, b'data: {"id": "gen-broken", "choices": [\n\n', DONE))
        case Fault.MISSING_USAGE:
            return text_reply(words, with_usage=False, chunks=chunks)
        case Fault.STREAM_ERROR:
            return mid_stream_error_reply(words[:2], code=502,
                                          message="Upstream provider error")
    raise AssertionError(fault)


class FaultyOpenRouter:
    """The fake: answers ``/chat/completions`` as ``plan`` says; anything else is a 404."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.served: list[Served] = []
        self.base_url = ""  # set while serving: OpenRouter's API root (…/api/v1)
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def handle(self, request: Request) -> Reply | Reset:
        if request.method != "POST" or not request.path.endswith("/chat/completions"):
            return http_error_reply(404, f"No route for {request.method} {request.path}")
        key = call_key(request.body)
        with self._lock:
            self._attempts[key] += 1
            attempt = self._attempts[key]
            fault = self.plan.fault(key, attempt)
            self.served.append(Served(request.headers.get("x-request-id"), key, attempt, fault,
                                      str(request.body.get("model") or "")))
        return reply_for(fault, key, request.body, pause_s=self.plan.stream_pause_s)

    def faults_served(self) -> Counter[Fault]:
        with self._lock:
            return Counter(s.fault for s in self.served)

    def requests_for(self, tag: str) -> list[Served]:
        with self._lock:
            return [s for s in self.served if s.key.startswith(f"{tag}:")]


@contextmanager
def serving(fake: FaultyOpenRouter) -> Iterator[FaultyOpenRouter]:
    with serving_faults(fake.handle, name="faulty-openrouter") as base:
        fake.base_url = f"{base}/api/v1"
        yield fake
