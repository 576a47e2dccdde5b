"""Users and e-mail addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from pantheon_core.domain.text import check_text
from pantheon_core.errors import InvalidInput
from pantheon_core.ids import UserId

# Deliberately simple: one @, a dot in the domain, no spaces. Deliverability is
# proven by the magic link itself, not by a regex.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_EMAIL_LENGTH = 254


class UserStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


def normalize_email(value: str) -> str:
    """Trimmed, lower-cased, and checked, or ``invalid_email``."""
    email = check_text(value.strip().lower(), field="email") if isinstance(value, str) else ""
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidInput(f"{value!r} is not a valid e-mail address.", code="invalid_email")
    return email


@dataclass(frozen=True, slots=True)
class User:
    id: UserId
    email: str
    created_at: datetime
    status: UserStatus = UserStatus.ACTIVE
    display_name: str | None = None

    def with_status(self, status: UserStatus) -> User:
        return replace(self, status=status)
