"""What use cases need from the outside, handed over once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from pantheon_core.domain.credentials import MAGIC_LINK_TTL, SESSION_TTL
from pantheon_core.ports.clock import Clock
from pantheon_core.ports.identity import IdentityVerifier
from pantheon_core.ports.mailer import Mailer
from pantheon_core.ports.rate_limiter import RateLimit, RateLimiter
from pantheon_core.ports.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Sign-in settings. ``link_url`` is where a magic link points; ``{token}`` is filled in."""

    link_url: str = "http://127.0.0.1:8000/api/v1/auth/verify?token={token}"
    magic_link_ttl: timedelta = MAGIC_LINK_TTL
    session_ttl: timedelta = SESSION_TTL
    links_per_email: RateLimit = field(default_factory=lambda: RateLimit(limit=5, window_s=900))
    links_per_client: RateLimit = field(default_factory=lambda: RateLimit(limit=20, window_s=3600))


@dataclass(frozen=True, slots=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    mailer: Mailer
    limiter: RateLimiter
    identity: IdentityVerifier | None = None
    auth: AuthPolicy = field(default_factory=AuthPolicy)


class UseCase:
    """Base for use cases: holds the dependencies; subclasses define ``__call__``."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
