"""DOCX: paragraphs and tables in body order, with python-docx, after the zip safety checks."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import docx
from docx.opc.exceptions import OpcError
from docx.table import Table
from lxml.etree import LxmlError

from pantheon_adapters.documents.pdf import unreadable
from pantheon_core.domain.file_types import check_zip_limits
from pantheon_core.ports.documents import ExtractedText, ParseLimits

_MALFORMED = (OpcError, LxmlError, zipfile.BadZipFile, KeyError, ValueError, IndexError,
              TypeError, AttributeError, NotImplementedError, RuntimeError, EOFError, OSError)


def extract(data: bytes, limits: ParseLimits, tick: Callable[[], None]) -> ExtractedText:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_zip_limits(archive.infolist(), max_entries=limits.docx_max_entries,
                             max_uncompressed_bytes=limits.docx_max_uncompressed_bytes,
                             max_ratio=limits.docx_max_ratio)
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        length = 0
        for block in document.iter_inner_content():
            rows = _table_lines(block, tick) if isinstance(block, Table) else [block.text]
            tick()
            lines.extend(rows)
            length += sum(len(row) + 1 for row in rows)
            if length > limits.max_chars:
                break  # the rest would be cut anyway
    except _MALFORMED as exc:
        raise unreadable("the Word document is damaged") from exc
    return ExtractedText(text="\n".join(lines).rstrip())


def _table_lines(table: Table, tick: Callable[[], None]) -> list[str]:
    lines = []
    for row in table.rows:
        tick()
        lines.append(" | ".join(" ".join(cell.text.split()) for cell in row.cells))
    return lines
