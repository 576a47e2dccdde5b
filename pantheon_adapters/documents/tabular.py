"""CSV: rows as ``a | b | c`` lines, header first, within the row, column and field limits."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from pantheon_adapters.documents.pdf import unreadable
from pantheon_core.domain.file_types import decode_text, sniff_delimiter
from pantheon_core.domain.files import unsafe_file
from pantheon_core.errors import InvalidInput
from pantheon_core.ports.documents import ExtractedText, ParseLimits


def extract(data: bytes, limits: ParseLimits, tick: Callable[[], None]) -> ExtractedText:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text) or ",")
    lines: list[str] = []
    length = rows = 0
    # The csv module's limit is process-wide: set it for this run (a backstop against one huge
    # field in memory), put it back after, and check each row too in case a run next door
    # changed it meanwhile.
    previous = csv.field_size_limit(limits.csv_max_field_chars)
    try:
        for row in reader:
            tick()
            if not row:
                continue
            rows += 1
            if rows > limits.csv_max_rows:
                raise unsafe_file(f"the table has more than {limits.csv_max_rows} rows")
            if len(row) > limits.csv_max_columns:
                raise unsafe_file(f"the table has more than {limits.csv_max_columns} columns")
            if max(map(len, row)) > limits.csv_max_field_chars:
                raise _field_too_long(limits)
            if length <= limits.max_chars:  # past it the text is cut: only the limits matter
                lines.append(" | ".join(" ".join(cell.split()) for cell in row))
                length += len(lines[-1]) + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise _field_too_long(limits) from exc
        raise unreadable("the table is malformed") from exc
    finally:
        csv.field_size_limit(previous)
    return ExtractedText(text="\n".join(lines))


def _field_too_long(limits: ParseLimits) -> InvalidInput:
    return unsafe_file(f"a table cell is longer than {limits.csv_max_field_chars} characters")
