"""Short-lived signed tokens for upload and download URLs (NFR-SEC-003).

A token is ``<payload>.<signature>``, both base64url without padding. The payload is compact
JSON with the purpose, the claims and the expiry (Unix seconds); the signature is
HMAC-SHA256 over ``purpose + "." + payload`` with the server's secret, so a token signed for
uploads cannot be replayed as a download and no claim can be altered. Checks, in order:
shape and signature (``invalid_signature``, 403), then expiry (``upload_expired`` /
``download_expired``, 410) — an expired token is reported as expired only once it is known
to be genuine.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from pantheon_core.errors import Forbidden, Gone

Purpose = Literal["upload", "download"]
MAX_TOKEN_CHARS = 4096


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: Purpose, payload: str) -> bytes:
    return hmac.new(secret.encode(), f"{purpose}.{payload}".encode(), hashlib.sha256).digest()


def sign(secret: str, purpose: Purpose, claims: Mapping[str, str | int],
         expires_at: datetime) -> str:
    body = {**claims, "exp": int(expires_at.timestamp())}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_b64(_mac(secret, purpose, payload))}"


def invalid_signature() -> Forbidden:
    return Forbidden("This link's signature is not valid. Ask for a new link.",
                     code="invalid_signature")


def verify(secret: str, purpose: Purpose, token: str, *, now: datetime) -> dict[str, str | int]:
    """The claims of a genuine, unexpired token; else ``invalid_signature`` / ``*_expired``."""
    payload, dot, signature = (token or "")[:MAX_TOKEN_CHARS].partition(".")
    try:
        given = _unb64(signature)
        claims = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid_signature() from None
    if not dot or not hmac.compare_digest(given, _mac(secret, purpose, payload)) \
            or not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise invalid_signature()
    expires = datetime.fromtimestamp(claims["exp"], tz=UTC)
    if now >= expires:
        raise Gone(f"This {purpose} link expired at {expires.isoformat()}. Ask for a new one.",
                   code=f"{purpose}_expired", details={"expired_at": expires.isoformat()})
    return {k: v for k, v in claims.items() if isinstance(v, str | int)}
