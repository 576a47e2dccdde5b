"""OpenAICompatibleChatModel against a fake OpenRouter on 127.0.0.1 speaking its wire format:
the chunks it yields, the request it sends, and the ProviderError for every failure."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from pantheon_adapters.llm import OPENROUTER_BASE_URL, OpenAICompatibleChatModel
from pantheon_adapters.llm.provider_errors import retry_after_s
from pantheon_adapters.llm.sse import sse_data
from pantheon_core.ports.chat_model import (
    CallFinished,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    ToolSpec,
    Usage,
)
from tests.integration.fake_openrouter import (
    DONE,
    KEEPALIVE,
    MODEL,
    Chunks,
    FakeOpenRouter,
    Pause,
    Reply,
    dropped_reply,
    http_error_reply,
    hung_reply,
    mid_stream_error_reply,
    serving,
    sse,
    text_reply,
    tool_calls_reply,
)

READ_S = 0.3


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenRouter]:
    with serving(FakeOpenRouter()) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOpenRouter) -> FakeOpenRouter:
    server.reset()
    return server


@pytest.fixture
async def model(fake: FakeOpenRouter) -> AsyncIterator[OpenAICompatibleChatModel]:
    chat_model = OpenAICompatibleChatModel(
        fake.base_url, api_key="sk-or-test", openrouter=True, app_url="https://pantheon.test",
        app_title="Pantheon", connect_s=0.5, read_s=READ_S)
    yield chat_model
    await chat_model.aclose()


def chat_request(**overrides: Any) -> ChatRequest:
    fields: dict[str, Any] = {
        "model": MODEL, "purpose": "worker",
        "messages": (ChatMessage("system", "You are Athena."), ChatMessage("user", "Hello")),
    }
    return ChatRequest(**(fields | overrides))


async def collect(chat_model: OpenAICompatibleChatModel,
                  request: ChatRequest | None = None) -> list[ChatChunk]:
    return [chunk async for chunk in chat_model.stream(request or chat_request())]


async def failure(chat_model: OpenAICompatibleChatModel,
                  request: ChatRequest | None = None) -> tuple[list[ChatChunk], ProviderError]:
    """The chunks yielded before the attempt failed, and its error."""
    seen: list[ChatChunk] = []
    with pytest.raises(ProviderError) as caught:
        await drain(chat_model.stream(request or chat_request()), into=seen)
    return seen, caught.value


async def drain(stream: AsyncIterator[ChatChunk], *, into: list[ChatChunk]) -> None:
    async for chunk in stream:
        into.append(chunk)


def texts(chunks: list[ChatChunk]) -> list[str]:
    return [c.text for c in chunks if isinstance(c, TextDelta)]


# --- streams that succeed -------------------------------------------------------------------


async def test_text_streams_as_deltas_then_one_call_finished_with_usage(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["Hel", "lo", " world"], prompt_tokens=12_000,
                           completion_tokens=800, cached_tokens=2_000, cost=0.00012,
                           chunks=Chunks(generation_id="gen-123")))

    chunks = await collect(model)

    assert chunks == [
        TextDelta("Hel"), TextDelta("lo"), TextDelta(" world"),
        CallFinished(usage=Usage(prompt_tokens=12_000, completion_tokens=800,
                                 cached_tokens=2_000, cost_usd=Decimal("0.00012")),
                     generation_id="gen-123", finish_reason="stop", provider="openrouter",
                     model=MODEL),
    ]


async def test_usage_without_cached_tokens_or_cost_reports_none(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["Hi"], prompt_tokens=12_000, completion_tokens=800))

    finished = (await collect(model))[-1]

    assert isinstance(finished, CallFinished)
    assert finished.usage == Usage(prompt_tokens=12_000, completion_tokens=800,
                                   cached_tokens=None, cost_usd=None)


async def test_zero_cached_tokens_is_reported_as_zero_not_missing(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["Hi"], cached_tokens=0, cost=0))

    finished = (await collect(model))[-1]

    assert isinstance(finished, CallFinished)
    assert (finished.usage.cached_tokens, finished.usage.cost_usd) == (0, Decimal(0))


async def test_keepalive_comments_before_and_between_tokens_are_skipped(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["a", "b", "c"], keepalives=3, keepalive_every=1))

    chunks = await collect(model)

    assert texts(chunks) == ["a", "b", "c"]
    assert isinstance(chunks[-1], CallFinished)


async def test_keepalives_during_a_slow_first_token_keep_the_stream_alive(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    # Each gap is shorter than the read timeout even though the whole wait is longer:
    # deadlines on the first token are the engine's, not the adapter's.
    wait = (KEEPALIVE, Pause(READ_S / 3)) * 4
    fake.script(Reply(parts=(*wait, *text_reply(["late"]).parts)))

    assert texts(await collect(model)) == ["late"]


async def test_an_event_split_over_several_data_lines_is_joined(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    ch = Chunks()
    one_event = ch.delta(content="joined").replace(b',"delta"', b',\ndata: "delta"', 1)
    fake.script(Reply(parts=(one_event, *text_reply([], chunks=ch).parts)))

    assert texts(await collect(model)) == ["joined"]


async def test_usage_without_done_still_finishes(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["ok"], with_done=False, prompt_tokens=5, completion_tokens=1))

    finished = (await collect(model))[-1]

    assert isinstance(finished, CallFinished)
    assert finished.usage.prompt_tokens == 5


async def test_done_without_usage_finishes_with_zero_usage(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["ok"], with_usage=False))

    finished = (await collect(model))[-1]

    assert isinstance(finished, CallFinished)
    assert finished.usage == Usage()


async def test_the_consumer_may_stop_early_and_the_next_call_still_works(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["one", "two", "three"], token_s=0.05), text_reply(["again"]))

    stream = model.stream(chat_request())
    first = await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]

    assert first == TextDelta("one")
    assert texts(await collect(model)) == ["again"]


# --- tool calls -----------------------------------------------------------------------------


async def test_tool_call_fragments_are_assembled_into_one_tool_calls_ready(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(tool_calls_reply([
        ("call_1", "web_search", '{"query": "pantheon greek gods"}'),
        ("call_2", "read_file", '{"file_id": "f-42"}'),
    ], text="Let me look.", pieces=4))

    chunks = await collect(model)

    assert chunks[:2] == [TextDelta("Let me look."), ToolCallsReady((
        ToolCall("call_1", "web_search", '{"query": "pantheon greek gods"}'),
        ToolCall("call_2", "read_file", '{"file_id": "f-42"}'),
    ))]
    assert isinstance(chunks[2], CallFinished)
    assert chunks[2].finish_reason == "tool_calls"
    assert len(chunks) == 3


async def test_tool_calls_without_a_tool_calls_finish_reason_come_at_the_end(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(tool_calls_reply([("call_9", "web_search", '{"query": "x"}')],
                                 finish_reason="stop"))

    chunks = await collect(model)

    assert chunks[0] == ToolCallsReady((ToolCall("call_9", "web_search", '{"query": "x"}'),))
    assert isinstance(chunks[1], CallFinished)
    assert chunks[1].finish_reason == "stop"


# --- the request ----------------------------------------------------------------------------


async def test_request_carries_headers_and_the_openai_body(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["ok"]))
    search = ToolSpec("web_search", "Search the web.", {
        "type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]})
    call = ToolCall("call_1", "web_search", '{"query": "zeus"}')
    request = chat_request(
        messages=(ChatMessage("system", "You are Athena."),
                  ChatMessage("user", "Who is Zeus?", name="ana"),
                  ChatMessage("assistant", "", tool_calls=(call,)),
                  ChatMessage("tool", "Zeus is ...", tool_call_id="call_1")),
        tools=(search,), max_tokens=256, temperature=0.2, json_output=True,
        request_id="req-7", user_ref="u-hash-1")

    await collect(model, request)

    received = fake.requests[-1]
    assert received.path == "/api/v1/chat/completions"
    assert received.headers["authorization"] == "Bearer sk-or-test"
    assert received.headers["http-referer"] == "https://pantheon.test"
    assert received.headers["x-title"] == "Pantheon"
    assert received.headers["x-request-id"] == "req-7"
    assert received.body == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are Athena."},
            {"role": "user", "content": "Who is Zeus?", "name": "ana"},
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "web_search", "arguments": '{"query": "zeus"}'}}]},
            {"role": "tool", "content": "Zeus is ...", "tool_call_id": "call_1"},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "usage": {"include": True},
        "tools": [{"type": "function", "function": {
            "name": "web_search", "description": "Search the web.",
            "parameters": dict(search.parameters)}}],
        "max_tokens": 256,
        "temperature": 0.2,
        "response_format": {"type": "json_object"},
        "user": "u-hash-1",
    }


async def test_optional_fields_and_headers_are_left_out_when_unset(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["ok"]))

    await collect(model)

    received = fake.requests[-1]
    assert "x-request-id" not in received.headers
    assert set(received.body) == {"model", "messages", "stream", "stream_options", "usage"}


async def test_a_local_server_needs_no_key_and_gets_no_openrouter_extensions(
        fake: FakeOpenRouter) -> None:
    fake.script(text_reply(["local"]))
    local = OpenAICompatibleChatModel(fake.base_url.removesuffix("/api/v1") + "/v1/",
                                      provider_name="ollama", read_s=READ_S)
    try:
        chunks = await collect(local)
    finally:
        await local.aclose()

    received = fake.requests[-1]
    assert local.provider == "ollama"
    assert received.path == "/v1/chat/completions"
    assert "authorization" not in received.headers
    assert "usage" not in received.body
    assert isinstance(chunks[-1], CallFinished)
    assert chunks[-1].provider == "ollama"


def test_openrouter_is_the_default_and_is_recognised_by_its_url() -> None:
    assert OpenAICompatibleChatModel(api_key="k").provider == "openrouter"
    assert OpenAICompatibleChatModel(OPENROUTER_BASE_URL + "/").provider == "openrouter"
    assert OpenAICompatibleChatModel("http://localhost:11434/v1").provider == "openai-compatible"


async def test_a_shared_client_is_left_open(fake: FakeOpenRouter) -> None:
    fake.script(text_reply(["a"]), text_reply(["b"]))
    async with httpx.AsyncClient() as http:
        first = OpenAICompatibleChatModel(fake.base_url, openrouter=True, http=http)
        await collect(first)
        await first.aclose()
        second = OpenAICompatibleChatModel(fake.base_url, openrouter=True, http=http)
        assert texts(await collect(second)) == ["b"]


# --- HTTP errors before the stream ----------------------------------------------------------


async def test_429_is_rate_limited_and_retryable_after_the_retry_after_seconds(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(http_error_reply(429, "Rate limit exceeded: free-models-per-min",
                                 retry_after="2"))

    seen, error = await failure(model)

    assert seen == []
    assert (error.code, error.retryable, error.status, error.retry_after_s) == (
        "rate_limited", True, 429, 2.0)
    assert "Rate limit exceeded: free-models-per-min" in error.message


async def test_retry_after_as_an_http_date(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(http_error_reply(429, "slow down", retry_after=formatdate(
        time.time() + 30, usegmt=True)))

    _, error = await failure(model)

    assert error.retry_after_s is not None
    assert 25 <= error.retry_after_s <= 31


@pytest.mark.parametrize(("status", "retry_after", "expected_after"), [
    (502, None, None), (503, "1", 1.0), (504, None, None)])
async def test_gateway_errors_are_provider_unavailable_and_retryable(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel, status: int,
        retry_after: str | None, expected_after: float | None) -> None:
    fake.script(http_error_reply(status, "upstream overloaded", retry_after=retry_after,
                                 metadata={"provider_name": "Groq"}))

    _, error = await failure(model)

    assert (error.code, error.retryable, error.status, error.retry_after_s) == (
        "provider_unavailable", True, status, expected_after)
    assert "upstream overloaded (upstream provider: Groq)" in error.message


async def test_500_is_a_retryable_provider_error(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(http_error_reply(500, "Internal Server Error"))

    _, error = await failure(model)

    assert (error.code, error.retryable, error.status) == ("provider_error", True, 500)


async def test_402_means_no_provider_credits_and_is_never_retried(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(http_error_reply(402, "Insufficient credits. Add more using "
                                      "https://openrouter.ai/credits", retry_after="5"))

    _, error = await failure(model)

    assert (error.code, error.retryable, error.status, error.retry_after_s) == (
        "insufficient_provider_credits", False, 402, None)
    assert "Insufficient credits" in error.message


@pytest.mark.parametrize(("status", "code"), [
    (400, "provider_rejected"), (401, "provider_auth_failed"), (403, "provider_rejected"),
    (404, "model_not_found"), (413, "request_too_large"), (422, "provider_rejected"),
    (418, "provider_rejected")])
async def test_client_errors_are_final_and_carry_the_providers_message(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel, status: int, code: str) -> None:
    fake.script(http_error_reply(status, f"the provider says no ({status})"))

    _, error = await failure(model)

    assert (error.code, error.retryable, error.status) == (code, False, status)
    assert f"HTTP {status}: the provider says no ({status})" in error.message


async def test_an_error_body_that_is_not_json_is_quoted(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(Reply(status=503, parts=(b"<html>Service Unavailable</html>",),
                      content_type="text/html"))

    _, error = await failure(model)

    assert error.code == "provider_unavailable"
    assert "<html>Service Unavailable</html>" in error.message


async def test_http_200_with_a_json_error_instead_of_a_stream(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(Reply(parts=(b'{"error": {"code": 503, "message": "no capacity"}}',),
                      content_type="application/json"))

    _, error = await failure(model)

    assert (error.code, error.retryable) == ("provider_stream_error", True)
    assert "no capacity" in error.message


async def test_http_200_with_something_else_than_a_stream_is_a_bad_response(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(Reply(parts=(b"<html>login</html>",), content_type="text/html"))

    _, error = await failure(model)

    assert (error.code, error.retryable) == ("provider_bad_response", False)


# --- failures after HTTP 200 ----------------------------------------------------------------


async def test_an_error_event_mid_stream_fails_after_the_text_already_sent(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(mid_stream_error_reply(["Par", "tial"], code=502,
                                       message="Provider disconnected unexpectedly"))

    seen, error = await failure(model)

    assert texts(seen) == ["Par", "tial"]
    assert (error.code, error.retryable, error.status) == ("provider_stream_error", True, 502)
    assert "Provider disconnected unexpectedly" in error.message
    assert error.generation_id is not None
    assert error.generation_id.startswith("gen-")


async def test_a_mid_stream_error_that_is_not_overload_is_final_and_keeps_usage(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(mid_stream_error_reply(["x"], code="server_error", message="content filter",
                                       usage_before_error=True))

    _, error = await failure(model)

    assert (error.code, error.retryable, error.status) == ("provider_stream_error", False, None)
    assert error.usage == Usage(prompt_tokens=20, completion_tokens=1)


async def test_a_hung_first_token_times_out_after_the_read_timeout(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(hung_reply(READ_S * 10))

    seen, error = await failure(model)

    assert seen == []
    assert (error.code, error.retryable) == ("provider_timeout", True)


async def test_a_server_that_never_answers_times_out(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(hung_reply(READ_S * 10, before_headers=True))

    _, error = await failure(model)

    assert (error.code, error.retryable) == ("provider_timeout", True)


async def test_a_dropped_connection_mid_stream_is_a_retryable_disconnect(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(dropped_reply(["Once", " upon"]))

    seen, error = await failure(model)

    assert texts(seen) == ["Once", " upon"]
    assert (error.code, error.retryable) == ("provider_disconnected", True)
    assert error.generation_id is not None


async def test_a_stream_that_ends_without_done_or_usage_is_a_disconnect(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(text_reply(["cut"], with_usage=False, with_done=False))

    seen, error = await failure(model)

    assert texts(seen) == ["cut"]
    assert (error.code, error.retryable) == ("provider_disconnected", True)


async def test_malformed_json_in_a_data_line_is_a_bad_response(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    ch = Chunks()
    fake.script(Reply(parts=(ch.delta(content="ok"), b'data: {"id": "gen-1", "choi\n\n', DONE)))

    seen, error = await failure(model)

    assert texts(seen) == ["ok"]
    assert (error.code, error.retryable) == ("provider_bad_response", False)


async def test_a_chunk_that_is_not_an_object_is_a_bad_response(
        fake: FakeOpenRouter, model: OpenAICompatibleChatModel) -> None:
    fake.script(Reply(parts=(sse([1, 2]), DONE)))

    _, error = await failure(model)

    assert error.code == "provider_bad_response"


async def test_nothing_listening_is_unreachable_and_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chat_model = OpenAICompatibleChatModel(f"http://127.0.0.1:{port}/api/v1", connect_s=0.5)
    try:
        _, error = await failure(chat_model)
    finally:
        await chat_model.aclose()

    assert (error.code, error.retryable) == ("provider_unreachable", True)


async def test_a_base_url_that_is_not_http_is_a_configuration_error() -> None:
    chat_model = OpenAICompatibleChatModel("ftp://example.invalid/v1")
    try:
        _, error = await failure(chat_model)
    finally:
        await chat_model.aclose()

    assert (error.code, error.retryable) == ("provider_misconfigured", False)
    assert isinstance(error.__cause__, httpx.UnsupportedProtocol)


@pytest.mark.parametrize("base_url", ["http://[::1/v1", "http://127.0.0.1:99999/v1"])
def test_an_invalid_base_url_fails_at_construction(base_url: str) -> None:
    with pytest.raises(ValueError, match="Invalid chat model base URL"):
        OpenAICompatibleChatModel(base_url)


# --- the small parts on their own -----------------------------------------------------------


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def test_sse_events_comments_fields_and_an_unfinished_last_event() -> None:
    events = [data async for data in sse_data(lines(
        ": OPENROUTER PROCESSING", "",
        "event: message", "id: 1", "data: first", "",
        "data:no-space", "data:  two spaces", "",
        "", "",
        "data: never finished"))]

    assert events == ["first", "no-space\n two spaces"]


@pytest.mark.parametrize(("header", "expected"), [
    ("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("", None), ("soon", None), (None, None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_retry_after_values(header: str | None, expected: float | None) -> None:
    assert retry_after_s(header) == expected


def test_retry_after_date_is_measured_from_now() -> None:
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
