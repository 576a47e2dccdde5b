"""Server-sent events: the ``data`` of each event in a stream of text lines.

Only what chat completion streams use: ``data:`` fields (several lines of one event are
joined with a newline), comment lines starting with ``:`` (keep-alives such as OpenRouter's
``: OPENROUTER PROCESSING``) and a blank line ending each event. Other fields (``event:``,
``id:``, ``retry:``) carry nothing an OpenAI-compatible stream needs and are ignored.
An event the stream ends in the middle of (no closing blank line) is dropped, as the
SSE specification says: the caller then sees a stream that ended early.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator


async def sse_data(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    """Yield the data of every complete event carried by ``lines`` (no line endings)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))
