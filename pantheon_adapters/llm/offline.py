"""The ``offline`` chat model: the embedded default when no LLM key is configured."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal

import anyio

from pantheon_adapters.llm.offline_plan import plan_answer
from pantheon_adapters.llm.offline_text import summary_answer, synthesis_answer, worker_answer
from pantheon_adapters.llm.offline_tools import answer_from_tools, tool_calls_for
from pantheon_core.ports.chat_model import (
    CallFinished,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    Purpose,
    TextDelta,
    ToolCallsReady,
    Usage,
)

PROVIDER = "offline"
DEFAULT_WORD_DELAY_S = 0.03

_PIECE = re.compile(r"\S+\s*")
_WRITERS: dict[Purpose, Callable[[Sequence[ChatMessage]], str]] = {
    "plan": plan_answer,
    "worker": worker_answer,
    "direct": worker_answer,
    "synthesis": synthesis_answer,
    "summary": summary_answer,
}


def estimate_prompt_tokens(messages: Sequence[ChatMessage]) -> int:
    return sum(len(m.content) // 4 + 4 for m in messages)


def completion_tokens(text: str) -> int:
    return max(1, len(text.split()) * 4 // 3)


class OfflineChatModel:
    """``ChatModel`` that needs no network, so every mode works out of the box.

    Contract, on top of the port's (one attempt per ``stream``: text deltas, then one
    ``CallFinished``):

    - Deterministic: the same request (model, purpose, messages) gets the same answer;
      the per-attempt ``request_id`` plays no part.
    - Clearly labelled: answers start with "[offline model] " and the reported model
      is ``offline/<requested model>``; ``provider`` is "offline".
    - Streams word by word, sleeping ``word_delay_s`` before each word (0: no sleep).
      A plan (``purpose="plan"``) is JSON and arrives as one delta.
    - Answers each purpose the way the engine needs: a valid routing plan for the
      manager, 40-90 words in the agent's voice for workers and direct chat, a
      synthesis naming every agent that answered, and a summary for memory folds.
    - Reports usage estimated like the engine's context budget (4 characters a
      token plus 4 a message for the prompt, 4/3 tokens a word for the completion),
      no cached tokens and zero cost. ``max_tokens`` cuts the answer
      (``finish_reason="length"``) except for plans, which are short.
    """

    def __init__(self, word_delay_s: float = DEFAULT_WORD_DELAY_S) -> None:
        self._delay = max(0.0, word_delay_s)

    @property
    def provider(self) -> str:
        return PROVIDER

    def model_label(self, model: str) -> str:
        return f"offline/{model}"

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        if request.purpose in ("worker", "direct"):
            calls = tool_calls_for(request)
            if calls:
                if self._delay:
                    await anyio.sleep(self._delay)
                yield ToolCallsReady(calls)
                yield CallFinished(
                    usage=Usage(prompt_tokens=estimate_prompt_tokens(request.messages),
                                completion_tokens=8 * len(calls), cached_tokens=0,
                                cost_usd=Decimal(0)),
                    generation_id=_generation_id(request, repr(calls)),
                    finish_reason="tool_calls", provider=PROVIDER,
                    model=f"{PROVIDER}/{request.model}")
                return
            if any(m.role == "tool" for m in request.messages):
                async for chunk in self._speak(request, answer_from_tools(request.messages)):
                    yield chunk
                return
        text = _WRITERS.get(request.purpose, worker_answer)(request.messages)
        async for chunk in self._speak(request, text):
            yield chunk

    async def _speak(self, request: ChatRequest, text: str) -> AsyncIterator[ChatChunk]:
        pieces = [text] if request.purpose == "plan" else _PIECE.findall(text)
        finish_reason = "stop"
        if request.purpose != "plan" and request.max_tokens is not None:
            limit = max(1, request.max_tokens * 3 // 4)
            if len(pieces) > limit:
                pieces, finish_reason = pieces[:limit], "length"
        for piece in pieces:
            if self._delay:
                await anyio.sleep(self._delay)
            yield TextDelta(piece)
        answered = "".join(pieces)
        yield CallFinished(
            usage=Usage(prompt_tokens=estimate_prompt_tokens(request.messages),
                        completion_tokens=completion_tokens(answered), cached_tokens=0,
                        cost_usd=Decimal(0)),
            generation_id=_generation_id(request, answered), finish_reason=finish_reason,
            provider=PROVIDER, model=f"{PROVIDER}/{request.model}")


def _generation_id(request: ChatRequest, answer: str) -> str:
    digest = hashlib.sha256()
    for part in (request.model, request.purpose, *(m.content for m in request.messages), answer):
        digest.update(part.encode())
        digest.update(b"\x00")
    return f"offline-{digest.hexdigest()[:12]}"
