"""``LocalDocumentParser``: extracts text in a worker thread, within ``ParseLimits``.

Each format module exposes ``extract(data, limits, tick)``; ``tick`` is called once per page,
paragraph or row and raises ``unsafe_file`` once the run is over ``limits.max_seconds`` (or stops
the thread when the caller was cancelled). The text is then cut at ``limits.max_chars``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio.from_thread
import anyio.to_thread

from pantheon_adapters.documents import docx, pdf, tabular, text
from pantheon_core.domain.files import FileKind, unsafe_file
from pantheon_core.errors import PantheonError, Unavailable
from pantheon_core.ports.documents import ExtractedText, ParseLimits

logger = logging.getLogger("pantheon.documents")

Tick = Callable[[], None]
Extractor = Callable[[bytes, ParseLimits, Tick], ExtractedText]

_EXTRACTORS: dict[FileKind, Extractor] = {
    FileKind.PDF: pdf.extract,
    FileKind.DOCX: docx.extract,
    FileKind.CSV: tabular.extract,
    FileKind.TXT: text.extract,
    FileKind.MD: text.extract,
}


class LocalDocumentParser:
    """Implements ``pantheon_core.ports.documents.DocumentParser`` in-process."""

    async def extract(self, kind: FileKind, data: bytes, *, limits: ParseLimits) -> ExtractedText:
        try:
            return await anyio.to_thread.run_sync(_extract, kind, data, limits)
        except PantheonError:
            raise
        except Exception as exc:
            logger.exception("Parsing a %s file failed unexpectedly", kind.value)
            raise Unavailable("The document parser failed unexpectedly; try again later.",
                              code="parser_unavailable", details={"kind": kind.value}) from exc


def _extract(kind: FileKind, data: bytes, limits: ParseLimits) -> ExtractedText:
    deadline = time.monotonic() + limits.max_seconds

    def tick() -> None:
        anyio.from_thread.check_cancelled()
        if time.monotonic() > deadline:
            raise unsafe_file(f"reading the file took longer than {limits.max_seconds:g} seconds")

    return _truncate(_EXTRACTORS[kind](data, limits, tick), limits.max_chars)


def _truncate(result: ExtractedText, max_chars: int) -> ExtractedText:
    if len(result.text) <= max_chars:
        return result
    kept = result.text[:max_chars]
    offsets = tuple(offset for offset in result.page_offsets if offset == 0 or offset < len(kept))
    return ExtractedText(text=kept, page_offsets=offsets, truncated=True)
