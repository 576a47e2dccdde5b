"""Text every store can hold: no NUL, no other control characters, no lone surrogates.

JSON can carry ``"\\u0000"`` or ``"\\ud800"``; PostgreSQL refuses the first and no
encoder accepts the second, so both are refused at the door with a typed error.
"""

from __future__ import annotations

import re

from pantheon_core.errors import InvalidInput

# C0 controls except tab, newline and carriage return; DEL; UTF-16 surrogates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_text(value: str, *, field: str) -> str:
    """``value`` unchanged, or ``invalid_text`` naming the field."""
    if _UNSAFE.search(value):
        raise InvalidInput(f"The {field.replace('_', ' ')} contains characters that are not "
                           "allowed (control characters or invalid Unicode).",
                           code="invalid_text", details={"field": field})
    return value
