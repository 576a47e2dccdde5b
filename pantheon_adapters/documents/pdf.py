"""PDF: text page by page with pypdf; pages joined by a blank line."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from pantheon_core.domain.files import unsafe_file
from pantheon_core.errors import InvalidInput
from pantheon_core.ports.documents import ExtractedText, ParseLimits

PAGE_SEPARATOR = "\n\n"

# What pypdf raises, or lets escape, on a malformed file: bad content, not a broken parser.
_MALFORMED = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError,
              AssertionError, RecursionError, UnicodeError, OverflowError, EOFError,
              struct.error, zlib.error)


def extract(data: bytes, limits: ParseLimits, tick: Callable[[], None]) -> ExtractedText:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):  # an owner-only password still reads
            raise unreadable("the PDF is encrypted with a password")
        count = len(reader.pages)
        if count > limits.max_pages:
            raise unsafe_file(f"the PDF has {count} pages, more than the limit of "
                              f"{limits.max_pages}")
        parts: list[str] = []
        offsets: list[int] = []
        length = 0
        for page in reader.pages:
            tick()
            if offsets:
                length += len(PAGE_SEPARATOR)
            offsets.append(length)
            page_text = page.extract_text() or ""
            parts.append(page_text)
            length += len(page_text)
            if length > limits.max_chars:
                break  # the rest would be cut anyway
    except _MALFORMED as exc:
        raise unreadable("the PDF is damaged or uses features that cannot be read") from exc
    return ExtractedText(text=PAGE_SEPARATOR.join(parts), page_offsets=tuple(offsets),
                         truncated=len(parts) < count)


def unreadable(reason: str) -> InvalidInput:
    return InvalidInput(f"This file could not be read: {reason}.", code="file_unreadable",
                        details={"reason": reason})
