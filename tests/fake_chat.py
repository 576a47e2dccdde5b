"""A scriptable ``ChatModel`` for engine tests: replies queued per purpose, every request kept."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import anyio

from pantheon_core.ports.chat_model import (
    CallFinished,
    ChatChunk,
    ChatRequest,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    Usage,
)


@dataclass
class Reply:
    text: str = ""
    usage: Usage = field(default_factory=lambda: Usage(prompt_tokens=1000, completion_tokens=200,
                                                       cached_tokens=None))
    error: ProviderError | None = None  # raised after ``text`` has streamed
    first_delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    hang: bool = False
    tool_calls: tuple[ToolCall, ...] = ()


Script = Reply | Callable[[ChatRequest], Reply]


def roster_plan(request: ChatRequest) -> Reply:
    """A valid plan naming every roster agent, read from the manager's system prompt."""
    system = request.messages[0].content
    roster = json.loads(system.split("Roster (JSON):\n", 1)[1].split("\n\n", 1)[0])
    plan = {"steps": [{"agent_id": a["agent_id"], "instruction": f"Help as {a['name']}.",
                       "read_files": False} for a in roster],
            "synthesis_brief": "Merge them."}
    return Reply(text=json.dumps(plan))


def default_reply(request: ChatRequest) -> Reply:
    if request.purpose == "plan":
        return roster_plan(request)
    who = request.messages[0].content.split("\n", 1)[0]
    return Reply(text=f"{request.purpose} answer. {who}")


class FakeChatModel:
    provider = "fake"

    def __init__(self) -> None:
        self.scripts: dict[str, deque[Script]] = defaultdict(deque)
        self.requests: list[ChatRequest] = []
        self.active = 0

    def model_label(self, model: str) -> str:
        return model

    def queue(self, purpose: str, *replies: Script) -> None:
        """Replies for the next calls of ``purpose`` ("*" for any), in order."""
        self.scripts[purpose].extend(replies)

    def purposes(self) -> list[str]:
        return [r.purpose for r in self.requests]

    def _next(self, request: ChatRequest) -> Reply:
        for key in (request.purpose, "*"):
            if self.scripts[key]:
                script = self.scripts[key].popleft()
                return script(request) if callable(script) else script
        return default_reply(request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        self.requests.append(request)
        reply = self._next(request)
        self.active += 1
        try:
            if reply.first_delay_s:
                await anyio.sleep(reply.first_delay_s)
            if reply.hang:
                await anyio.sleep(3600)
            for i, word in enumerate(reply.text.split(" ")):
                if i and reply.chunk_delay_s:
                    await anyio.sleep(reply.chunk_delay_s)
                yield TextDelta(word if i == 0 else " " + word)
            if reply.error is not None:
                raise reply.error
            if reply.tool_calls:
                yield ToolCallsReady(reply.tool_calls)
            yield CallFinished(usage=reply.usage, generation_id=f"gen-{len(self.requests)}",
                               finish_reason="stop", provider="fake", model=request.model)
        finally:
            self.active -= 1
