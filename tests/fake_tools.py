"""Fakes for the tool ports (our own ports): web search, blob storage and document parsing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pantheon_core.domain.file_types import decode_text
from pantheon_core.domain.files import FileKind
from pantheon_core.errors import Unavailable, not_found
from pantheon_core.ports.blob_store import check_blob_key, file_too_large
from pantheon_core.ports.documents import ExtractedText, ParseLimits
from pantheon_core.ports.web_search import SearchHit, SearchResults, clamp_max_results, clean_query

PAGE_BREAK = "\f"


@dataclass
class FakeWebSearch:
    """Answers every query with ``hits`` (numbered by query); keeps every query asked."""

    queries: list[str] = field(default_factory=list)
    fail: Unavailable | None = None

    async def search(self, query: str, *, max_results: int = 5) -> SearchResults:
        cleaned = clean_query(query)
        self.queries.append(cleaned)
        if self.fail is not None:
            raise self.fail
        hits = tuple(SearchHit(title=f"Result {i} for {cleaned}", url=f"https://example.com/{i}",
                               content=f"Fact number {i} about {cleaned}.")
                     for i in range(1, clamp_max_results(max_results) + 1))
        return SearchResults(query=cleaned, hits=hits[:3], answer=None)


@dataclass
class MemoryBlobStore:
    objects: dict[str, bytes] = field(default_factory=dict)

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int,
                  content_type: str) -> int:
        check_blob_key(key)
        body = bytearray()
        async for chunk in chunks:
            body += chunk
            if len(body) > max_bytes:
                raise file_too_large(max_bytes)
        self.objects[key] = bytes(body)
        return len(body)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        check_blob_key(key)
        if key not in self.objects:
            raise not_found("blob", key)
        yield self.objects[key]

    async def read(self, key: str, *, max_bytes: int) -> bytes:
        check_blob_key(key)
        if key not in self.objects:
            raise not_found("blob", key)
        if len(self.objects[key]) > max_bytes:
            raise file_too_large(max_bytes)
        return self.objects[key]

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def exists(self, key: str) -> bool:
        return key in self.objects

    async def ping(self) -> None:
        return None


@dataclass
class PlainTextParser:
    """Decodes text files; a form feed splits pages. Other kinds read as their raw text."""

    calls: int = 0

    async def extract(self, kind: FileKind, data: bytes, *,
                      limits: ParseLimits) -> ExtractedText:
        self.calls += 1
        text = decode_text(data) if kind.is_text else data.decode("latin-1")
        pages = text.split(PAGE_BREAK)
        if len(pages) == 1:
            return ExtractedText(text=text)
        offsets, at = [], 0
        for page in pages:
            offsets.append(at)
            at += len(page) + 2
        return ExtractedText(text="\n\n".join(pages), page_offsets=tuple(offsets))
