"""SupabaseJwtVerifier with tokens the tests sign: HS256 with a secret, RS256/ES256 against
a JWKS document served on loopback (with key rotation)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from pantheon_adapters.auth.jwks import JwksKeys
from pantheon_adapters.auth.supabase import SupabaseJwtVerifier
from pantheon_adapters.settings import Settings
from pantheon_core.errors import Unauthenticated
from pantheon_core.ports.identity import ExternalIdentity

SECRET = "super-secret-jwt-token-with-at-least-32-characters"
SUB = "3f1d2c4b-0000-4000-8000-000000000001"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"sub": SUB, "email": "ada@example.com", "aud": "authenticated",
                            "role": "authenticated", "iat": now, "exp": now + 3600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def hs256(secret: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), secret, algorithm="HS256")


async def rejected(verifier: SupabaseJwtVerifier, token: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token)
    assert caught.value.code == "invalid_token"
    return caught.value


# --- HS256 -----------------------------------------------------------------------------------

@pytest.fixture
def hs_verifier() -> SupabaseJwtVerifier:
    return SupabaseJwtVerifier(secret=SECRET)


async def test_a_good_token_names_the_user(hs_verifier: SupabaseJwtVerifier) -> None:
    assert await hs_verifier.verify(hs256()) == ExternalIdentity(
        provider="supabase", subject=SUB, email="ada@example.com")


async def test_email_is_optional(hs_verifier: SupabaseJwtVerifier) -> None:
    assert (await hs_verifier.verify(hs256(email=None))).email is None


async def test_expired_token(hs_verifier: SupabaseJwtVerifier) -> None:
    error = await rejected(hs_verifier, hs256(exp=int(time.time()) - 60))
    assert "expired" in error.message


async def test_a_few_seconds_of_clock_skew_are_tolerated(
        hs_verifier: SupabaseJwtVerifier) -> None:
    assert (await hs_verifier.verify(hs256(exp=int(time.time()) - 3))).subject == SUB


async def test_wrong_secret(hs_verifier: SupabaseJwtVerifier) -> None:
    error = await rejected(hs_verifier, hs256(secret="another-secret-of-at-least-32-characters!"))
    assert "signature" in error.message


async def test_wrong_audience(hs_verifier: SupabaseJwtVerifier) -> None:
    error = await rejected(hs_verifier, hs256(aud="anon"))
    assert "audience" in error.message


async def test_missing_sub(hs_verifier: SupabaseJwtVerifier) -> None:
    error = await rejected(hs_verifier, hs256(sub=None))
    assert "'sub'" in error.message


async def test_missing_exp(hs_verifier: SupabaseJwtVerifier) -> None:
    error = await rejected(hs_verifier, hs256(exp=None))
    assert "'exp'" in error.message


async def test_alg_none_is_refused(hs_verifier: SupabaseJwtVerifier) -> None:
    token = jwt.encode(claims(), "", algorithm="none")
    error = await rejected(hs_verifier, token)
    assert "'none'" in error.message


async def test_not_a_jwt(hs_verifier: SupabaseJwtVerifier) -> None:
    error = await rejected(hs_verifier, "pan_not-a-jwt")
    assert "well-formed" in error.message


async def test_issuer_is_checked_when_configured() -> None:
    verifier = SupabaseJwtVerifier(secret=SECRET, issuer="https://abc.supabase.co/auth/v1")
    assert (await verifier.verify(hs256(iss="https://abc.supabase.co/auth/v1"))).subject == SUB
    await rejected(verifier, hs256(iss="https://evil.example.com/auth/v1"))


def test_from_settings_needs_a_secret_or_a_jwks_url() -> None:
    verifier = SupabaseJwtVerifier.from_settings(Settings(supabase_jwt_secret=SECRET))
    assert isinstance(verifier, SupabaseJwtVerifier)
    with pytest.raises(ValueError, match="JWT secret"):
        SupabaseJwtVerifier.from_settings(Settings())


# --- JWKS (RS256 / ES256) ----------------------------------------------------------------------

@dataclass
class JwksServer:
    """A JWKS endpoint on loopback whose key set the test replaces at will."""

    document: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    fetches: int = 0
    url: str = ""
    failing: bool = False


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: Any

    def jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.alg == "RS256" else ECAlgorithm
        public = algorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def sign(self, **overrides: Any) -> str:
        return jwt.encode(claims(**overrides), self.private, algorithm=self.alg,
                          headers={"kid": self.kid})


def rsa_key(kid: str) -> SigningKey:
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    state = JwksServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.fetches += 1
            body = json.dumps(state.document).encode()
            self.send_response(503 if state.failing else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/auth/v1/.well-known/jwks.json"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
async def jwks_verifier(jwks_server: JwksServer) -> AsyncIterator[SupabaseJwtVerifier]:
    verifier = SupabaseJwtVerifier.from_settings(Settings(supabase_jwks_url=jwks_server.url))
    try:
        yield verifier
    finally:
        await verifier.aclose()


async def test_rs256_token_verified_with_the_published_key(
        jwks_server: JwksServer, jwks_verifier: SupabaseJwtVerifier) -> None:
    key = rsa_key("key-1")
    jwks_server.document = {"keys": [key.jwk()]}

    assert (await jwks_verifier.verify(key.sign())).subject == SUB
    assert (await jwks_verifier.verify(key.sign(sub="someone-else"))).subject == "someone-else"
    assert jwks_server.fetches == 1  # cached


async def test_es256_token_verified(jwks_server: JwksServer,
                                    jwks_verifier: SupabaseJwtVerifier) -> None:
    key = SigningKey("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1()))
    jwks_server.document = {"keys": [key.jwk()]}
    assert (await jwks_verifier.verify(key.sign())).email == "ada@example.com"


async def test_key_rotation_refetches_once_on_an_unknown_kid(
        jwks_server: JwksServer, jwks_verifier: SupabaseJwtVerifier) -> None:
    old, new = rsa_key("key-1"), rsa_key("key-2")
    jwks_server.document = {"keys": [old.jwk()]}
    await jwks_verifier.verify(old.sign())

    jwks_server.document = {"keys": [old.jwk(), new.jwk()]}
    assert (await jwks_verifier.verify(new.sign())).subject == SUB
    assert jwks_server.fetches == 2

    stranger = rsa_key("key-unknown")
    error = await rejected(jwks_verifier, stranger.sign())
    assert "does not publish" in error.message
    assert jwks_server.fetches == 2  # a junk kid right after a refetch does not refetch again


async def test_a_token_signed_by_another_key_with_a_known_kid(
        jwks_server: JwksServer, jwks_verifier: SupabaseJwtVerifier) -> None:
    jwks_server.document = {"keys": [rsa_key("key-1").jwk()]}
    forged = rsa_key("key-1")
    error = await rejected(jwks_verifier, forged.sign())
    assert "signature" in error.message


async def test_hs256_is_refused_when_only_jwks_is_configured(
        jwks_server: JwksServer, jwks_verifier: SupabaseJwtVerifier) -> None:
    jwks_server.document = {"keys": [rsa_key("key-1").jwk()]}
    error = await rejected(jwks_verifier, hs256())
    assert "'HS256'" in error.message


async def test_expired_rs256_token(jwks_server: JwksServer,
                                   jwks_verifier: SupabaseJwtVerifier) -> None:
    key = rsa_key("key-1")
    jwks_server.document = {"keys": [key.jwk()]}
    await rejected(jwks_verifier, key.sign(exp=int(time.time()) - 120))


async def test_an_unreachable_jwks_url_is_unauthenticated_not_a_crash(
        jwks_server: JwksServer, jwks_verifier: SupabaseJwtVerifier) -> None:
    jwks_server.failing = True
    error = await rejected(jwks_verifier, rsa_key("key-1").sign())
    assert "could not be fetched" in error.message


async def test_expired_cache_is_refreshed_and_kept_if_the_refresh_fails(
        jwks_server: JwksServer) -> None:
    key = rsa_key("key-1")
    jwks_server.document = {"keys": [key.jwk()]}
    verifier = SupabaseJwtVerifier(jwks=JwksKeys(jwks_server.url, ttl_s=0))
    try:
        await verifier.verify(key.sign())
        await verifier.verify(key.sign())
        assert jwks_server.fetches == 2  # ttl 0: every lookup refreshes
        jwks_server.failing = True
        assert (await verifier.verify(key.sign())).subject == SUB  # stale keys still serve
    finally:
        await verifier.aclose()
