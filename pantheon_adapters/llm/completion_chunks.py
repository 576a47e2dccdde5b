"""Chat completion chunks (``chat.completion.chunk`` JSON) turned into :data:`ChatChunk`s."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pantheon_adapters.llm.provider_errors import bad_response, disconnected, stream_error
from pantheon_core.ports.chat_model import (
    CallFinished,
    ChatChunk,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    Usage,
)


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class CompletionChunks:
    """Reads one streamed completion, chunk by chunk, and remembers what the end needs.

    - ``choices[0].delta.content`` becomes a :class:`TextDelta` (empty strings are dropped).
    - ``choices[0].delta.tool_calls`` fragments are joined by ``index`` (id and name from the
      first fragment that has them, ``arguments`` concatenated) and emitted as ONE
      :class:`ToolCallsReady` when ``finish_reason`` is ``tool_calls``, or else at the end.
    - ``usage`` (it comes in a final chunk whose ``choices`` is empty) is kept for
      :class:`CallFinished`; ``cached_tokens`` stays None when the provider omits it.
    - A chunk carrying ``error`` raises ``provider_stream_error``; an unparsable one raises
      ``provider_bad_response``; both carry the usage and generation id seen so far.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.generation_id: str | None = None
        self.model = ""
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._calls: dict[int, _PartialCall] = {}
        self._calls_sent = False

    def feed(self, data: str) -> list[ChatChunk]:
        """The chunks one SSE ``data`` payload (other than ``[DONE]``) yields."""
        try:
            chunk = json.loads(data, parse_float=Decimal)
            if not isinstance(chunk, dict):
                raise TypeError("a chunk must be a JSON object")
            return self._read(chunk)
        except (ValueError, TypeError, AttributeError, InvalidOperation) as exc:
            raise bad_response(self.provider, f"{exc}: {data!r}", usage=self.usage,
                               generation_id=self.generation_id) from exc

    def finish(self, *, saw_done: bool) -> list[ChatChunk]:
        """The closing chunks once the body ended; a stream cut short raises instead."""
        if not saw_done and self.usage is None:
            raise disconnected(self.provider, usage=None, generation_id=self.generation_id)
        return [*self._pending_calls(), CallFinished(
            usage=self.usage or Usage(), generation_id=self.generation_id,
            finish_reason=self.finish_reason, provider=self.provider, model=self.model)]

    def _read(self, chunk: dict[str, Any]) -> list[ChatChunk]:
        self.generation_id = self.generation_id or chunk.get("id") or None
        self.model = chunk.get("model") or self.model
        if chunk.get("error"):
            raise stream_error(self.provider, chunk["error"], usage=self.usage,
                               generation_id=self.generation_id)
        if chunk.get("usage"):
            self.usage = _usage(chunk["usage"])
        choices = chunk.get("choices") or []
        return self._read_choice(choices[0]) if choices else []

    def _read_choice(self, choice: Mapping[str, Any]) -> list[ChatChunk]:
        delta = choice.get("delta") or {}
        out: list[ChatChunk] = []
        content = delta.get("content")
        if content:
            out.append(TextDelta(str(content)))
        for position, fragment in enumerate(delta.get("tool_calls") or []):
            self._add_fragment(position, fragment)
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
            if self.finish_reason == "tool_calls":
                out.extend(self._pending_calls())
        return out

    def _add_fragment(self, position: int, fragment: Mapping[str, Any]) -> None:
        call = self._calls.setdefault(int(fragment.get("index", position)), _PartialCall())
        function = fragment.get("function") or {}
        call.id = call.id or str(fragment.get("id") or "")
        call.name = call.name or str(function.get("name") or "")
        call.arguments.append(str(function.get("arguments") or ""))

    def _pending_calls(self) -> list[ChatChunk]:
        if self._calls_sent or not self._calls:
            return []
        self._calls_sent = True
        calls = tuple(
            ToolCall(id=c.id or f"call_{index}", name=c.name, arguments="".join(c.arguments))
            for index, c in sorted(self._calls.items()))
        return [ToolCallsReady(calls)]


def _usage(usage: Mapping[str, Any]) -> Usage:
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    cost = usage.get("cost")
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cached_tokens=None if cached is None else int(cached),
        cost_usd=None if cost is None else Decimal(str(cost)),
    )
