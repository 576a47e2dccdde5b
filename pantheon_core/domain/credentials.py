"""Magic links, sign-in sessions and personal API tokens.

Secrets are random, shown once, and stored only as SHA-256 hashes: a database
leak yields nothing that signs anyone in. Every credential ends exactly one way:
used (links), revoked, or expired.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pantheon_core.domain.text import check_text
from pantheon_core.errors import InvalidInput, Unauthenticated
from pantheon_core.ids import ApiTokenId, MagicLinkId, SessionId, UserId

MAGIC_LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(days=30)
API_TOKEN_PREFIX = "pan_"
SESSION_PREFIX = "pss_"
MAX_TOKEN_NAME = 64


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def clean_token_name(value: str) -> str:
    name = " ".join(value.split()) if isinstance(value, str) else ""
    check_text(name, field="token_name")
    if not name or len(name) > MAX_TOKEN_NAME:
        raise InvalidInput(f"A token needs a name of 1-{MAX_TOKEN_NAME} characters.",
                           code="invalid_token_name", details={"max_length": MAX_TOKEN_NAME})
    return name


@dataclass(frozen=True, slots=True)
class MagicLink:
    id: MagicLinkId
    email: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def check_usable(self, now: datetime) -> None:
        if self.used_at is not None:
            raise Unauthenticated("This sign-in link was already used; request a new one.",
                                  code="magic_link_used")
        if now >= self.expires_at:
            raise Unauthenticated("This sign-in link has expired; request a new one.",
                                  code="magic_link_expired")


@dataclass(frozen=True, slots=True)
class AuthSession:
    id: SessionId
    user_id: UserId
    token_hash: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def is_valid(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def revoked(self, now: datetime) -> AuthSession:
        return replace(self, revoked_at=self.revoked_at or now)


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: ApiTokenId
    user_id: UserId
    name: str
    token_hash: str
    hint: str
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def is_valid(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def revoked(self, now: datetime) -> ApiToken:
        return replace(self, revoked_at=self.revoked_at or now)

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.is_valid(now) else "expired"


def token_hint(secret: str) -> str:
    """What a listing may show of a token: its prefix and last four characters."""
    return f"{secret[:len(API_TOKEN_PREFIX)]}…{secret[-4:]}"
