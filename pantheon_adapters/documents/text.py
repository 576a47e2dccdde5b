"""TXT and MD: the decoded text as is."""

from __future__ import annotations

from collections.abc import Callable

from pantheon_core.domain.file_types import decode_text
from pantheon_core.ports.documents import ExtractedText, ParseLimits


def extract(data: bytes, limits: ParseLimits, tick: Callable[[], None]) -> ExtractedText:
    tick()
    return ExtractedText(text=decode_text(data))
