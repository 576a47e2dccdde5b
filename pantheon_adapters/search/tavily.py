"""``WebSearch`` through Tavily's ``POST /search``, with the official ``AsyncTavilyClient``.

How tavily-python (0.8.x, read from its source) reports a failed call:

    HTTP 429             -> UsageLimitExceededError(detail)
    HTTP 401             -> InvalidAPIKeyError(detail)
    HTTP 403, 432, 433   -> ForbiddenError(detail)        (432/433: plan or spending limit)
    HTTP 400             -> BadRequestError(detail)
    other non-2xx        -> httpx.HTTPStatusError          (status and headers on .response)
    httpx timeout        -> tavily.errors.TimeoutError
    connection failures  -> httpx.TransportError, unwrapped
    200 with a bad body  -> json.JSONDecodeError

The status follows from the class, but Retry-After is dropped. So each search hands the SDK
its own ``httpx.AsyncClient`` (the SDK accepts one) whose response hook keeps the last
response: the SDK still builds the request (body, ``Authorization: Bearer`` header), and the
adapter reads Retry-After from what the hook saw.

Failures are mapped once, here, to ``Unavailable`` codes; see :class:`WebSearch`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from tavily import AsyncTavilyClient
from tavily.errors import (
    BadRequestError,
    ForbiddenError,
    InvalidAPIKeyError,
    UsageLimitExceededError,
)
from tavily.errors import TimeoutError as TavilyTimeoutError

from pantheon_adapters.search.retry_after import parse_retry_after
from pantheon_core.errors import Unavailable
from pantheon_core.ports.web_search import (
    SearchHit,
    SearchResults,
    clamp_max_results,
    clean_query,
)

DEFAULT_BASE_URL = "https://api.tavily.com"

_REJECTED = (InvalidAPIKeyError, ForbiddenError, BadRequestError)
_VENDOR_ERRORS = (UsageLimitExceededError, *_REJECTED, TavilyTimeoutError, TimeoutError,
                  httpx.HTTPError, ValueError)


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What one failed attempt means: the error to report, and whether to try again."""

    error: Unavailable
    retryable: bool
    retry_after_s: float | None = None


class TavilyWebSearch:
    """Tavily search: ``basic`` depth with Tavily's short answer, bounded retries.

    Retries 429, 5xx, timeouts and connection failures up to ``max_attempts`` in all, waiting
    a jittered exponential backoff, or the provider's Retry-After when it sends one. A
    Retry-After longer than ``max_retry_after_s`` is not waited for: the search fails at once
    with ``search_rate_limited`` (a tool call should not hang for a minute). Other 4xx answers
    are ``search_rejected`` and are not retried. ``timeout_s`` bounds each attempt as a whole
    (and each read within it); ``connect_timeout_s`` bounds connecting.
    """

    def __init__(self, api_key: str | None, *, api_base_url: str | None = None,
                 timeout_s: float = 15, connect_timeout_s: float = 5.0, max_attempts: int = 3,
                 backoff_base_s: float = 0.5, max_backoff_s: float = 8.0,
                 max_retry_after_s: float = 10.0) -> None:
        self._api_key = api_key or None
        self._base_url = (api_base_url or DEFAULT_BASE_URL).rstrip("/")
        self._timeout_s = timeout_s
        # The SDK passes one number for every phase of the request; the request hook in
        # ``_call`` swaps in this one, with its own connect timeout.
        self._timeouts = httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s))
        self._max_attempts = max(1, max_attempts)
        self._backoff_base_s = backoff_base_s
        self._max_backoff_s = max_backoff_s
        self._max_retry_after_s = max_retry_after_s

    async def search(self, query: str, *, max_results: int = 5) -> SearchResults:
        cleaned = clean_query(query)
        if self._api_key is None:
            raise Unavailable("Web search is not configured: set PANTHEON_TAVILY_API_KEY to "
                              "enable it.", code="search_not_configured")
        count = clamp_max_results(max_results)
        for attempt in range(1, self._max_attempts + 1):
            seen: list[httpx.Response] = []
            try:
                body = await self._call(self._api_key, cleaned, count, seen)
            except _VENDOR_ERRORS as exc:
                verdict = _classify(exc, seen[-1] if seen else None, self._timeout_s)
                wait = self._wait_before_retry(verdict, attempt)
                if wait is None:
                    raise verdict.error from exc
            else:
                return _to_results(cleaned, body)
            await anyio.sleep(wait)
        raise AssertionError("unreachable: the last attempt either returns or raises")

    async def _call(self, api_key: str, query: str, count: int,
                    seen: list[httpx.Response]) -> Any:
        async def keep(response: httpx.Response) -> None:
            seen.append(response)

        async def bound(request: httpx.Request) -> None:
            request.extensions["timeout"] = self._timeouts.as_dict()

        async with httpx.AsyncClient(base_url=self._base_url, timeout=self._timeouts,
                                     event_hooks={"request": [bound],
                                                  "response": [keep]}) as http:
            client = AsyncTavilyClient(api_key=api_key, api_base_url=self._base_url, client=http)
            with anyio.fail_after(self._timeout_s):
                return await client.search(query, search_depth="basic", include_answer=True,
                                           max_results=count, timeout=self._timeout_s)

    def _wait_before_retry(self, verdict: _Verdict, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up with the verdict."""
        if not verdict.retryable or attempt >= self._max_attempts:
            return None
        if verdict.retry_after_s is not None:
            if verdict.retry_after_s > self._max_retry_after_s:
                return None
            return verdict.retry_after_s * random.uniform(1.0, 1.1)
        ceiling = min(self._backoff_base_s * 2 ** (attempt - 1), self._max_backoff_s)
        return random.uniform(ceiling / 2, ceiling)  # jitter spreads out synchronised retries


def _classify(exc: Exception, response: httpx.Response | None, timeout_s: float) -> _Verdict:
    if isinstance(exc, (TavilyTimeoutError, TimeoutError, httpx.TimeoutException)):
        return _Verdict(Unavailable(f"Web search timed out after {timeout_s:g} s.",
                                    code="search_timeout"), retryable=True)
    if isinstance(exc, UsageLimitExceededError):
        retry_after = parse_retry_after(response.headers) if response is not None else None
        details = {"retry_after_s": retry_after} if retry_after is not None else {}
        return _Verdict(Unavailable(_provider_message("is rate limiting searches", exc),
                                    code="search_rate_limited", details=details),
                        retryable=True, retry_after_s=retry_after)
    if isinstance(exc, _REJECTED):
        status = response.status_code if response is not None else None
        return _Verdict(Unavailable(_provider_message("rejected the search", exc),
                                    code="search_rejected", details={"status": status}),
                        retryable=False)
    if isinstance(exc, httpx.HTTPStatusError):
        return _status_verdict(exc.response)
    if isinstance(exc, httpx.TransportError):
        return _Verdict(Unavailable("Web search could not reach Tavily.",
                                    code="search_unavailable"), retryable=True)
    return _Verdict(Unavailable("Web search got an unreadable answer from Tavily.",
                                code="search_unavailable"), retryable=False)


def _status_verdict(response: httpx.Response) -> _Verdict:
    status = response.status_code
    if 400 <= status < 500:
        return _Verdict(Unavailable(f"Tavily rejected the search (HTTP {status}).",
                                    code="search_rejected", details={"status": status}),
                        retryable=False)
    return _Verdict(Unavailable(f"Web search is unavailable: Tavily answered HTTP {status}.",
                                code="search_unavailable", details={"status": status}),
                    retryable=True, retry_after_s=parse_retry_after(response.headers))


def _provider_message(what: str, exc: Exception) -> str:
    detail = str(exc).strip()
    return f"Tavily {what}: {detail}" if detail else f"Tavily {what}."


def _to_results(query: str, body: Any) -> SearchResults:
    """The SDK's decoded JSON as core values; a body of the wrong shape is ``unavailable``."""
    if not isinstance(body, Mapping) or not isinstance(body.get("results", []), list):
        raise Unavailable("Web search got an unreadable answer from Tavily.",
                          code="search_unavailable", details={"body": _preview(body)})
    hits = tuple(hit for item in body.get("results", []) if (hit := _to_hit(item)) is not None)
    answer = body.get("answer")
    answer = answer.strip() if isinstance(answer, str) else None
    return SearchResults(query=query, hits=hits, answer=answer or None)


def _to_hit(item: Any) -> SearchHit | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("url"), str):
        return None
    score = item.get("score")
    return SearchHit(title=str(item.get("title") or item["url"]), url=item["url"],
                     content=str(item.get("content") or ""),
                     score=float(score) if isinstance(score, (int, float)) else None)


def _preview(body: Any) -> str:
    return json.dumps(body, default=str)[:200]
