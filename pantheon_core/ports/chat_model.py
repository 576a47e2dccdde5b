"""The ``ChatModel`` port: one streamed chat completion attempt against an LLM provider.

An adapter makes exactly ONE attempt per ``stream`` call and yields, in order:
zero or more :class:`TextDelta` / :class:`ToolCallsReady`, then exactly one
:class:`CallFinished` carrying the usage the provider reported. It raises
:class:`ProviderError` for anything that went wrong (HTTP error, an ``error``
event after HTTP 200, a dropped connection, a timeout), saying whether a retry
could help and after how long. Retrying, deadlines for the first token and the
whole call, and metering every attempt are the engine's job (core), so that one
policy covers every provider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]
Purpose = Literal["plan", "worker", "synthesis", "direct", "summary"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, exactly as the model produced it


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """An OpenAI-format function tool offered to the model."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str  # the provider's model id, from the pricing data
    messages: tuple[ChatMessage, ...]
    purpose: Purpose
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    json_output: bool = False
    request_id: str = ""
    user_ref: str = ""  # an opaque per-user id for the provider's abuse tracking
    model_alias: str = ""  # the alias ``model`` was chosen for (``llama``…), for metrics


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallsReady:
    calls: tuple[ToolCall, ...]


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int | None = None  # None: the provider did not say (FR-BILL-006)
    cost_usd: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CallFinished:
    usage: Usage
    generation_id: str | None = None
    finish_reason: str | None = None
    provider: str = ""
    model: str = ""


ChatChunk = TextDelta | ToolCallsReady | CallFinished


class ProviderError(Exception):
    """One failed attempt, translated from the vendor's wire format.

    ``retryable``: 429, 502, 503, timeouts and dropped connections (only worth
    retrying if nothing streamed yet — the engine decides). 402 and 4xx are final.
    ``usage`` is what the provider reported before failing, if anything.
    """

    def __init__(self, message: str, *, code: str, retryable: bool, status: int | None = None,
                 retry_after_s: float | None = None, usage: Usage | None = None,
                 generation_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.status = status
        self.retry_after_s = retry_after_s
        self.usage = usage or Usage()
        self.generation_id = generation_id


class ChatModel(Protocol):
    """A provider of streamed chat completions (OpenRouter, any OpenAI-compatible API, offline)."""

    @property
    def provider(self) -> str: ...

    def model_label(self, model: str) -> str:
        """How a step names the model it ran on (the offline provider says so here)."""
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]: ...

