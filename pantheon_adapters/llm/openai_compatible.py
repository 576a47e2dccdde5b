"""``ChatModel`` over the OpenAI chat completions API: OpenRouter, Ollama, vLLM, OpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx

from pantheon_adapters.llm.completion_chunks import CompletionChunks
from pantheon_adapters.llm.openai_request import chat_completions_body
from pantheon_adapters.llm.provider_errors import (
    bad_response,
    error_object,
    status_error,
    stream_error,
    transport_error,
)
from pantheon_adapters.llm.sse import sse_data
from pantheon_core.ports.chat_model import ChatChunk, ChatRequest

OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"


class OpenAICompatibleChatModel:
    """One streamed ``POST {base_url}/chat/completions`` per :meth:`stream` call.

    Contract (the ``ChatModel`` port):
    - exactly one HTTP attempt; yields ``TextDelta``s, at most one ``ToolCallsReady``, then
      one ``CallFinished`` with the usage, generation id (the chunks' ``id``), finish reason
      and the model the provider reports. ``CallFinished`` is yielded after the response
      is fully read, so the connection is back in the pool by then.
    - every failure is a ``ProviderError`` (codes in :mod:`.provider_errors`); no retries,
      no deadlines beyond httpx's: ``connect_s`` to connect, ``read_s`` as the longest gap
      allowed between two reads. OpenRouter's ``: OPENROUTER PROCESSING`` keep-alives count
      as reads, so the first-token and whole-call deadlines belong to the caller.
    - ``openrouter`` (default: the base URL's host is openrouter.ai) asks for OpenRouter's
      usage accounting (``usage: {"include": true}``, giving ``cost``) and names the provider
      ``openrouter``; otherwise the provider is called ``provider_name``.
    - ``app_url`` / ``app_title`` are sent as OpenRouter's attribution headers
      (``HTTP-Referer``, ``X-Title``) when given; ``api_key`` as a bearer token when given
      (local servers such as Ollama or vLLM need none).
    - the ``http`` client, when passed in, is shared and not closed by :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str = OPENROUTER_BASE_URL,
        *,
        api_key: str | None = None,
        openrouter: bool | None = None,
        provider_name: str = "openai-compatible",
        app_url: str | None = None,
        app_title: str | None = None,
        connect_s: float = 10.0,
        read_s: float = 60.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        # Parsed (and headers encoded) here so that bad configuration fails at start-up.
        self._url = _completions_url(base_url)
        self._openrouter = _is_openrouter(base_url) if openrouter is None else openrouter
        self._provider = "openrouter" if self._openrouter else provider_name
        self._headers = _fixed_headers(api_key, app_url, app_title)
        self._timeout = httpx.Timeout(connect=connect_s, read=read_s, write=read_s,
                                      pool=connect_s)
        # Every running step holds a connection for its whole stream: allow many at once.
        self._http = http or httpx.AsyncClient(limits=httpx.Limits(
            max_connections=1000, max_keepalive_connections=100))
        self._owns_http = http is None

    @property
    def provider(self) -> str:
        return self._provider

    def model_label(self, model: str) -> str:
        return model

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = chat_completions_body(request, usage_accounting=self._openrouter)
        headers = self._headers.copy()
        if request.request_id:
            headers["X-Request-ID"] = request.request_id
        chunks = CompletionChunks(self._provider)
        saw_done = False
        try:
            async with self._http.stream("POST", self._url, content=body, headers=headers,
                                         timeout=self._timeout) as response:
                await self._check_response(response)
                async for data in sse_data(response.aiter_lines()):
                    if saw_done or data == "[DONE]":
                        saw_done = True  # read on to the end so the connection is reused
                        continue
                    for chunk in chunks.feed(data):
                        yield chunk
        except httpx.HTTPError as exc:
            raise transport_error(self._provider, exc, usage=chunks.usage,
                                  generation_id=chunks.generation_id) from exc
        for chunk in chunks.finish(saw_done=saw_done):
            yield chunk

    async def _check_response(self, response: httpx.Response) -> None:
        """Raise for anything but a 2xx event stream (the body is read for the message)."""
        if response.is_success and _is_event_stream(response):
            return
        body = await response.aread()
        if not response.is_success:
            raise status_error(self._provider, response.status_code, body, response.headers)
        error = error_object(body)
        if error is not None:
            # Some servers answer a streamed request that failed early with 200 and JSON.
            raise stream_error(self._provider, error, usage=None, generation_id=None)
        raise bad_response(self._provider, f"expected an event stream, got "
                           f"{response.headers.get('content-type', 'no content type')}")


def _completions_url(base_url: str) -> httpx.URL:
    try:
        url = httpx.URL(base_url.rstrip("/") + "/chat/completions")
    except httpx.InvalidURL as exc:
        raise ValueError(f"Invalid chat model base URL {base_url!r}: {exc}") from exc
    if url.port is not None and not 0 < url.port < 65536:
        raise ValueError(f"Invalid chat model base URL {base_url!r}: port out of range")
    return url


def _is_openrouter(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    return host == "openrouter.ai" or host.endswith(".openrouter.ai")


def _is_event_stream(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("text/event-stream")


def _fixed_headers(api_key: str | None, app_url: str | None,
                   app_title: str | None) -> httpx.Headers:
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if app_url:
        headers["HTTP-Referer"] = app_url
    if app_title:
        headers["X-Title"] = app_title
    return httpx.Headers(headers)
