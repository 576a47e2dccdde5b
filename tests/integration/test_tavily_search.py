"""The Tavily ``WebSearch`` adapter against a fake Tavily on 127.0.0.1; the port's pure rules."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pantheon_adapters.search.retry_after import parse_retry_after
from pantheon_adapters.search.tavily import TavilyWebSearch
from pantheon_core.errors import InvalidInput, Unavailable
from pantheon_core.ports.web_search import (
    TRUNCATION_MARK,
    SearchHit,
    SearchResults,
    WebSearch,
    clean_query,
    trim_results,
)
from tests.integration.fake_tavily import (
    FakeTavily,
    error_reply,
    hit,
    hung_reply,
    malformed_reply,
    results_reply,
    serving,
)

KEY = "tvly-test-key"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTavily]:
    with serving(FakeTavily()) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeTavily) -> FakeTavily:
    server.requests.clear()
    return server


def adapter(fake: FakeTavily, **overrides: object) -> TavilyWebSearch:
    options: dict[str, object] = {"timeout_s": 2.0, "max_attempts": 3, "backoff_base_s": 0.01}
    options.update(overrides)
    return TavilyWebSearch(KEY, api_base_url=fake.base_url, **options)  # type: ignore[arg-type]


# --- the adapter ---------------------------------------------------------------------------


async def test_results_are_mapped_and_the_request_is_what_the_sdk_sends(fake: FakeTavily) -> None:
    fake.script(results_reply([hit("Ada", "https://ada.example", "Ada Lovelace was…", 0.91),
                               {"title": None, "url": "https://bare.example", "content": None,
                                "score": None, "raw_content": None},
                               {"no": "url"}],
                              answer="Ada Lovelace."))
    search: WebSearch = adapter(fake)

    results = await search.search("  who was\nAda  ", max_results=50)

    assert results == SearchResults(query="who was Ada", answer="Ada Lovelace.", hits=(
        SearchHit("Ada", "https://ada.example", "Ada Lovelace was…", 0.91),
        SearchHit("https://bare.example", "https://bare.example", "", None)))
    (request,) = fake.requests
    assert request.path == "/search"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["query"] == "who was Ada"
    assert request.body["search_depth"] == "basic"
    assert request.body["include_answer"] is True
    assert request.body["max_results"] == 20


async def test_5xx_and_429_are_retried_then_succeed(fake: FakeTavily) -> None:
    fake.script(error_reply(500, "boom"), error_reply(429, "slow down"),
                results_reply([hit("ok", "https://ok.example", "fine")]))

    results = await adapter(fake).search("retry me")

    assert [h.url for h in results.hits] == ["https://ok.example"]
    assert len(fake.requests) == 3


async def test_retry_after_is_honoured(fake: FakeTavily) -> None:
    fake.script(error_reply(429, "slow down", retry_after="1"),
                results_reply([hit("ok", "https://ok.example", "fine")]))

    started = time.monotonic()
    await adapter(fake, backoff_base_s=0.0).search("patience")
    elapsed = time.monotonic() - started

    assert len(fake.requests) == 2
    assert 1.0 <= elapsed < 2.5


async def test_retry_after_beyond_the_cap_fails_fast_as_rate_limited(fake: FakeTavily) -> None:
    fake.script(error_reply(429, "Your request has been blocked", retry_after="120"))

    with pytest.raises(Unavailable) as caught:
        await adapter(fake, max_retry_after_s=5).search("later")

    assert caught.value.code == "search_rate_limited"
    assert caught.value.details == {"retry_after_s": 120.0}
    assert "blocked" in caught.value.message
    assert len(fake.requests) == 1


async def test_rate_limited_after_every_attempt(fake: FakeTavily) -> None:
    fake.script(*[error_reply(429, "slow down")] * 3)

    with pytest.raises(Unavailable) as caught:
        await adapter(fake).search("again")

    assert caught.value.code == "search_rate_limited"
    assert len(fake.requests) == 3


async def test_bad_gateway_every_time_is_unavailable(fake: FakeTavily) -> None:
    fake.script(*[error_reply(502, "bad gateway")] * 2)

    with pytest.raises(Unavailable) as caught:
        await adapter(fake, max_attempts=2).search("down")

    assert caught.value.code == "search_unavailable"
    assert caught.value.details == {"status": 502}
    assert len(fake.requests) == 2


@pytest.mark.parametrize("status", [401, 403, 400])
async def test_rejections_are_not_retried_and_keep_the_provider_message(
        fake: FakeTavily, status: int) -> None:
    fake.script(error_reply(status, "Unauthorized: missing or invalid API key."))

    with pytest.raises(Unavailable) as caught:
        await adapter(fake).search("who am I")

    assert caught.value.code == "search_rejected"
    assert caught.value.details == {"status": status}
    assert "invalid API key" in caught.value.message
    assert caught.value.__cause__ is not None  # mapped once, from the vendor error
    assert len(fake.requests) == 1


async def test_a_hung_provider_times_out_after_max_attempts(fake: FakeTavily) -> None:
    fake.script(*[hung_reply(3.0)] * 2)

    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        await adapter(fake, timeout_s=0.3, max_attempts=2).search("slow")

    assert caught.value.code == "search_timeout"
    assert len(fake.requests) == 2
    assert time.monotonic() - started < 2.0


async def test_malformed_json_is_unavailable_and_not_retried(fake: FakeTavily) -> None:
    fake.script(malformed_reply())

    with pytest.raises(Unavailable) as caught:
        await adapter(fake).search("garbled")

    assert caught.value.code == "search_unavailable"
    assert len(fake.requests) == 1


async def test_connection_refused_is_unavailable() -> None:
    search = TavilyWebSearch(KEY, api_base_url="http://127.0.0.1:9", max_attempts=2,
                             backoff_base_s=0.01, timeout_s=2)

    with pytest.raises(Unavailable) as caught:
        await search.search("anyone there")

    assert caught.value.code == "search_unavailable"


@pytest.mark.parametrize("key", [None, ""])
async def test_without_a_key_search_is_not_configured(fake: FakeTavily, key: str | None) -> None:
    search = TavilyWebSearch(key, api_base_url=fake.base_url)  # constructing never fails

    with pytest.raises(Unavailable) as caught:
        await search.search("anything")

    assert caught.value.code == "search_not_configured"
    assert "PANTHEON_TAVILY_API_KEY" in caught.value.message
    assert fake.requests == []


async def test_a_bad_query_sends_nothing(fake: FakeTavily) -> None:
    with pytest.raises(InvalidInput) as caught:
        await adapter(fake).search("   ")

    assert caught.value.code == "invalid_search_query"
    assert fake.requests == []


# --- clean_query ---------------------------------------------------------------------------


def test_clean_query_collapses_whitespace() -> None:
    assert clean_query("  what\tis\n\nthis ") == "what is this"
    assert clean_query("x" * 400) == "x" * 400


@pytest.mark.parametrize(("query", "reason"), [
    ("", "empty"), (" \n\t ", "empty"), ("x" * 401, "too_long"),
    ("nul\x00byte", "invalid_text"), ("bell\x07", "invalid_text"), ("\ud800", "invalid_text"),
])
def test_clean_query_refuses(query: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_query(query)

    assert caught.value.code == "invalid_search_query"
    assert caught.value.details["reason"] == reason


# --- trim_results --------------------------------------------------------------------------


def results(*contents: str, answer: str | None = None) -> SearchResults:
    return SearchResults(query="q", answer=answer, hits=tuple(
        SearchHit(f"Title {i}", f"https://site{i}.example/page", text, 0.5)
        for i, text in enumerate(contents)))


def size(r: SearchResults) -> int:
    return len(r.answer or "") + sum(len(h.title) + len(h.url) + len(h.content) for h in r.hits)


def test_trim_leaves_results_that_fit_alone() -> None:
    small = results("short", "also short", answer="yes")
    assert trim_results(small, size(small)) == small


def test_trim_keeps_every_title_and_url_within_the_budget() -> None:
    original = results("a" * 5000, "b" * 30, "c" * 3000, answer="d" * 1000)
    budget = 600

    trimmed = trim_results(original, budget)

    assert size(trimmed) <= budget
    assert [(h.title, h.url, h.score) for h in trimmed.hits] == [
        (h.title, h.url, h.score) for h in original.hits]
    assert trimmed.hits[1].content == "b" * 30  # short texts keep all of theirs
    long_ones = [trimmed.hits[0].content, trimmed.hits[2].content, trimmed.answer or ""]
    assert all(text.endswith(TRUNCATION_MARK) for text in long_ones)
    assert len({len(text) for text in long_ones}) == 1  # the rest is shared equally
    assert budget - size(trimmed) < 4  # and barely any of the budget is wasted


def test_trim_keeps_titles_and_urls_even_past_a_tiny_budget() -> None:
    original = results("a" * 100, "b" * 100)

    trimmed = trim_results(original, 10)

    assert [(h.title, h.url, h.content) for h in trimmed.hits] == [
        (h.title, h.url, "") for h in original.hits]
    assert trimmed.answer is None


# --- Retry-After ---------------------------------------------------------------------------


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 12:00:30 GMT"}, now=now) == 30.0
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 11:00:00 GMT"}, now=now) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
