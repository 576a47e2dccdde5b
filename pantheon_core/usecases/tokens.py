"""Personal API tokens for scripts and the CLI against a remote server (Bearer auth).

- A token is shown once, at creation; only its hash and a short hint are stored.
- Tokens may expire (``expires_in_days``) and can be revoked; revoking is idempotent.
- A user sees and revokes only their own tokens.
- Creating and revoking a token are audited (``auth.token.create``, ``auth.token.revoke``),
  in the same transaction, on the user's e-mail; the secret is never recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from pantheon_core.actor import Actor
from pantheon_core.domain.credentials import (
    API_TOKEN_PREFIX,
    ApiToken,
    clean_token_name,
    hash_secret,
    new_secret,
    token_hint,
)
from pantheon_core.errors import InvalidInput, Unauthenticated, not_found
from pantheon_core.ids import ApiTokenId, new_id
from pantheon_core.usecases.audit_log import record
from pantheon_core.usecases.deps import UseCase
from pantheon_core.usecases.signin import actor_of

MAX_TOKEN_DAYS = 3650


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str


class CreateApiToken(UseCase):
    async def __call__(self, actor: Actor, *, name: str,
                       expires_in_days: int | None = None) -> IssuedToken:
        user_id = actor.require_user()
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise InvalidInput(f"Token lifetime must be 1-{MAX_TOKEN_DAYS} days.",
                               code="invalid_token_lifetime")
        now = self.deps.clock.now()
        secret = new_secret(API_TOKEN_PREFIX)
        token = ApiToken(
            id=ApiTokenId(new_id()), user_id=user_id, name=clean_token_name(name),
            token_hash=hash_secret(secret), hint=token_hint(secret), created_at=now,
            expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
        )
        async with self.deps.uow() as uow:
            await uow.credentials.add_api_token(token)
            await record(uow, self.deps, actor, "auth.token.create", actor.label,
                         after=_audited(token))
            await uow.commit()
        return IssuedToken(token=token, secret=secret)


class ListApiTokens(UseCase):
    async def __call__(self, actor: Actor) -> Sequence[ApiToken]:
        user_id = actor.require_user()
        async with self.deps.uow() as uow:
            return await uow.credentials.list_api_tokens(user_id)


class RevokeApiToken(UseCase):
    async def __call__(self, actor: Actor, token_id: str) -> ApiToken:
        user_id = actor.require_user()
        async with self.deps.uow() as uow:
            token = await uow.credentials.get_api_token(ApiTokenId(token_id))
            if token is None or token.user_id != user_id:
                raise not_found("token", token_id)
            if token.revoked_at is None:
                before = _audited(token)
                token = token.revoked(self.deps.clock.now())
                await uow.credentials.update_api_token(token)
                await record(uow, self.deps, actor, "auth.token.revoke", actor.label,
                             before=before, after=_audited(token))
                await uow.commit()
        return token


def _audited(token: ApiToken) -> dict[str, str | None]:
    """What the audit log keeps of a token: never its secret or hash."""
    return {"token_id": token.id, "name": token.name, "hint": token.hint,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}


class AuthenticateApiToken(UseCase):
    """The actor behind a ``pan_…`` bearer token, or ``invalid_token``."""

    async def __call__(self, secret: str) -> Actor:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            found = await uow.credentials.get_api_token_with_user(hash_secret(secret))
            if found is None or not found[0].is_valid(now):
                raise Unauthenticated("This API token is not valid (unknown, revoked or expired).",
                                      code="invalid_token")
            token, user, roles = found
            actor = actor_of(user, roles)
            # Record use at most once a minute, so reads stay cheap.
            if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
                await uow.credentials.update_api_token(replace(token, last_used_at=now))
                await uow.commit()
            return actor
