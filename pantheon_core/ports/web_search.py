"""The ``WebSearch`` port, and the pure rules around it: what a query may be, and how results
are trimmed to a context budget without losing what an answer needs to cite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from pantheon_core.domain.text import check_text
from pantheon_core.errors import InvalidInput

MAX_QUERY_CHARS = 400
MAX_RESULTS_LIMIT = 20
TRUNCATION_MARK = " …"


@dataclass(frozen=True, slots=True)
class SearchHit:
    title: str
    url: str
    content: str
    score: float | None = None


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    hits: tuple[SearchHit, ...]
    answer: str | None = None


class WebSearch(Protocol):
    """Searches the web for one query.

    Contract:
    - ``query`` is checked with :func:`clean_query` first; a bad one raises
      ``InvalidInput(code="invalid_search_query")`` and nothing is sent.
    - ``max_results`` is clamped to ``1..MAX_RESULTS_LIMIT``; fewer hits may come back.
    - Returns the provider's hits in its ranking order, and its short answer when it gives one.
    - Every failure is an ``Unavailable`` with one of these codes, never a vendor exception:
      ``search_not_configured`` (no provider key: a clear tool error, raised on search),
      ``search_rejected`` (the provider refused the request: bad key, bad request; not retried),
      ``search_rate_limited``, ``search_timeout``, ``search_unavailable`` (after the adapter's own
      bounded retries).
    """

    async def search(self, query: str, *, max_results: int = 5) -> SearchResults: ...


def clean_query(query: str) -> str:
    """``query`` with whitespace collapsed, or ``invalid_search_query``.

    A query is 1..400 characters after collapsing runs of whitespace (the model may send
    newlines), with no control characters or invalid Unicode.
    """
    try:
        check_text(query, field="search_query")
    except InvalidInput as exc:
        raise _invalid("The search query contains characters that are not allowed.",
                       reason="invalid_text") from exc
    cleaned = " ".join(query.split())
    if not cleaned:
        raise _invalid("The search query is empty.", reason="empty")
    if len(cleaned) > MAX_QUERY_CHARS:
        raise _invalid(f"The search query is longer than {MAX_QUERY_CHARS} characters.",
                       reason="too_long")
    return cleaned


def clamp_max_results(max_results: int) -> int:
    return min(max(max_results, 1), MAX_RESULTS_LIMIT)


def trim_results(results: SearchResults, budget_chars: int) -> SearchResults:
    """``results`` cut to about ``budget_chars`` characters, keeping every hit citable.

    The budget counts the characters of titles, URLs, contents and the answer. Every title and
    URL is kept whole (they are what an answer cites), even when they alone exceed the budget.
    What is left is shared fairly over the answer and the contents: short texts keep all of
    theirs, and the rest split what remains equally. A cut text ends with ``" …"``.
    """
    fixed = sum(len(hit.title) + len(hit.url) for hit in results.hits)
    texts = [results.answer or ""] + [hit.content for hit in results.hits]
    cap = _fair_cap([len(text) for text in texts], max(budget_chars - fixed, 0))
    if cap is None:
        return results
    answer, *contents = (_cut(text, cap) for text in texts)
    hits = tuple(replace(hit, content=content)
                 for hit, content in zip(results.hits, contents, strict=True))
    return SearchResults(query=results.query, hits=hits,
                         answer=answer if results.answer is not None else None)


def _fair_cap(lengths: Sequence[int], budget: int) -> int | None:
    """The largest per-text cap whose capped lengths fit in ``budget``; None when all fit."""
    if sum(lengths) <= budget:
        return None
    remaining = budget
    ordered = sorted(lengths)
    for index, length in enumerate(ordered):
        share = remaining // (len(ordered) - index)
        if length > share:
            return share
        remaining -= length
    return None  # unreachable: the sum did not fit, so some length exceeds its share


def _cut(text: str, cap: int) -> str:
    if len(text) <= cap:
        return text
    if cap <= len(TRUNCATION_MARK):
        return ""
    return text[: cap - len(TRUNCATION_MARK)].rstrip() + TRUNCATION_MARK


def _invalid(message: str, *, reason: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_search_query",
                        details={"reason": reason, "max_chars": MAX_QUERY_CHARS})
