"""Supabase Auth access tokens (JWTs) as an ``IdentityVerifier``."""

from __future__ import annotations

from typing import Any

import jwt

from pantheon_adapters.auth.jwks import JwksKeys
from pantheon_adapters.settings import Settings
from pantheon_core.errors import Unauthenticated
from pantheon_core.ports.identity import ExternalIdentity

PROVIDER = "supabase"
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256"})
DEFAULT_LEEWAY_S = 10.0


def _invalid(reason: str) -> Unauthenticated:
    return Unauthenticated(f"The access token was rejected: {reason}", code="invalid_token")


class SupabaseJwtVerifier:
    """Verifies a Supabase Auth access token and names the user it was issued to.

    - HS256 tokens are checked with the project's JWT secret; RS256/ES256 tokens with the
      keys published at the JWKS URL. Whatever is not configured is refused, so a public
      key can never be used as an HMAC secret, and ``alg: none`` never passes.
    - ``exp`` is required and checked with a small leeway; ``aud`` must be the configured
      audience (``authenticated``); ``iss`` is checked when configured; ``sub`` is required.
    - Returns ``ExternalIdentity(provider="supabase", subject=sub, email=email claim)``.
    - Every failure, including an unreachable JWKS URL, raises ``Unauthenticated``
      (``invalid_token``) saying why in plain words.
    """

    def __init__(
        self,
        *,
        secret: str | None = None,
        jwks: JwksKeys | None = None,
        audience: str = "authenticated",
        issuer: str | None = None,
        leeway_s: float = DEFAULT_LEEWAY_S,
    ) -> None:
        if not secret and jwks is None:
            raise ValueError("SupabaseJwtVerifier needs a JWT secret, a JWKS URL, or both.")
        self._secret = secret
        self._jwks = jwks
        self._audience = audience
        self._issuer = issuer
        self._leeway_s = leeway_s

    @classmethod
    def from_settings(cls, settings: Settings) -> SupabaseJwtVerifier:
        jwks = JwksKeys(settings.supabase_jwks_url, timeout_s=settings.jwks_timeout_s,
                        connect_timeout_s=min(settings.jwks_timeout_s, 3.0),
                        total_timeout_s=settings.jwks_total_timeout_s,
                        max_attempts=settings.jwks_max_attempts,
                        ) if settings.supabase_jwks_url else None
        return cls(secret=settings.supabase_jwt_secret, jwks=jwks,
                   audience=settings.supabase_jwt_audience, issuer=settings.supabase_jwt_issuer)

    async def verify(self, token: str) -> ExternalIdentity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _invalid("it is not a well-formed JWT.") from exc
        algorithm = header.get("alg")
        key = await self._key_for(algorithm, header.get("kid"))
        claims = self._decode(token, key, str(algorithm))
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise _invalid("it does not say which user it belongs to (no 'sub' claim).")
        email = claims.get("email")
        return ExternalIdentity(provider=PROVIDER, subject=subject,
                                email=email if isinstance(email, str) and email else None)

    async def aclose(self) -> None:
        if self._jwks is not None:
            await self._jwks.aclose()

    async def _key_for(self, algorithm: object, kid: object) -> str | jwt.PyJWK:
        if algorithm == "HS256" and self._secret:
            return self._secret
        if algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            key = await self._jwks.key_for(kid if isinstance(kid, str) else None)
            if key.algorithm_name != algorithm:
                raise _invalid(f"its algorithm {algorithm} does not match its signing key.")
            return key
        raise _invalid(f"it is signed with {algorithm!r}, which this server does not accept.")

    def _decode(self, token: str, key: str | jwt.PyJWK, algorithm: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token, key, algorithms=[algorithm], audience=self._audience,
                issuer=self._issuer, leeway=self._leeway_s,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _invalid("it has expired; sign in again.") from exc
        except jwt.InvalidAudienceError as exc:
            raise _invalid(f"it was not issued for the audience {self._audience!r}.") from exc
        except jwt.InvalidIssuerError as exc:
            raise _invalid(f"it was not issued by {self._issuer!r}.") from exc
        except jwt.InvalidSignatureError as exc:
            raise _invalid("its signature does not match.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise _invalid(f"it has no {exc.claim!r} claim.") from exc
        except jwt.PyJWTError as exc:
            raise _invalid(f"{exc}.") from exc
