"""The ``DocumentParser`` port: the text inside an uploaded file, within safety limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pantheon_core.domain.files import FileKind


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """What one parse may cost. Exceeding one is ``unsafe_file`` (not retried)."""

    max_pages: int = 500  # PDF pages
    max_seconds: float = 30.0  # wall time of one extraction
    max_chars: int = 2_000_000  # extracted text kept; the rest is cut with a note
    docx_max_uncompressed_bytes: int = 50 * 1024 * 1024
    docx_max_ratio: int = 100  # uncompressed / compressed, per entry
    docx_max_entries: int = 2_000
    csv_max_rows: int = 200_000
    csv_max_columns: int = 500
    csv_max_field_chars: int = 100_000


@dataclass(frozen=True, slots=True)
class ExtractedText:
    text: str
    page_offsets: tuple[int, ...] = ()  # char offset of each page's start; () when unpaged
    truncated: bool = False  # the text was cut at ``max_chars``


class DocumentParser(Protocol):
    """Extracts plain text from the bytes of a file whose kind is already known.

    Contract:
    - PDF: text page by page (``page_offsets`` has one entry per page); more pages than
      ``max_pages`` or a run longer than ``max_seconds`` raises ``unsafe_file``; an encrypted or
      broken PDF raises ``InvalidInput(file_unreadable)``.
    - DOCX: paragraphs and tables in document order; the zip is checked against the ratio,
      size and entry limits before anything is decompressed (``unsafe_file``).
    - CSV: rows rendered as lines of ``a | b | c``; over the row, column or field limits
      raises ``unsafe_file``.
    - TXT / MD: decoded text as is (UTF-8, UTF-8 with BOM, or UTF-16 with BOM).
    - Runs off the event loop; never raises anything but ``PantheonError`` subclasses
      (``InvalidInput`` for bad content, ``Unavailable`` for a transient failure).
    """

    async def extract(self, kind: FileKind, data: bytes, *, limits: ParseLimits) -> ExtractedText:
        ...
