"""A ``ChatRequest`` in the OpenAI chat completions wire format (as OpenRouter accepts it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pantheon_core.ports.chat_model import ChatMessage, ChatRequest, ToolCall, ToolSpec


def chat_completions_body(request: ChatRequest, *, usage_accounting: bool) -> bytes:
    """The JSON body of ``POST /chat/completions`` for one streamed attempt.

    ``usage_accounting`` adds OpenRouter's ``usage: {"include": true}`` (cost in the
    final chunk); plain OpenAI-compatible servers may reject that unknown field.
    """
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_message(m) for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if usage_accounting:
        body["usage"] = {"include": True}
    if request.tools:
        body["tools"] = [_tool(t) for t in request.tools]
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.json_output:
        body["response_format"] = {"type": "json_object"}
    if request.user_ref:
        body["user"] = request.user_ref
    return json.dumps(body, default=_plain, ensure_ascii=False).encode()


def _message(message: ChatMessage) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name:
        wire["name"] = message.name
    if message.tool_call_id:
        wire["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        wire["tool_calls"] = [_tool_call(c) for c in message.tool_calls]
        # An assistant turn that only calls tools has no text: OpenAI's format says null.
        wire["content"] = message.content or None
    return wire


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function",
            "function": {"name": call.name, "arguments": call.arguments}}


def _tool(spec: ToolSpec) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": spec.name, "description": spec.description, "parameters": spec.parameters}}


def _plain(value: object) -> object:
    """Let ``json`` encode read-only mappings (tool parameter schemas may be frozen)."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
