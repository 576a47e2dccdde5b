from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    provider: str
    subject: str
    email: str | None


class IdentityVerifier(Protocol):
    """Verifies a bearer token issued by an external identity provider (e.g. Supabase Auth).

    Returns who it names, or raises ``Unauthenticated`` (bad signature, expired,
    wrong audience or issuer, unknown key).
    """

    async def verify(self, token: str) -> ExternalIdentity: ...
