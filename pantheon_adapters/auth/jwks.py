"""Signing keys published as a JWKS document, fetched over HTTP and cached."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio
import httpx
import jwt

from pantheon_core.errors import Unauthenticated

logger = logging.getLogger("pantheon.auth")


class JwksKeys:
    """The public keys at a JWKS URL, by ``kid``.

    - Keys are fetched on first use and kept for ``ttl_s``; after that the next lookup
      refetches. If that refresh fails, the old keys stay in use (the provider being
      briefly down must not sign everybody out).
    - An unknown ``kid`` triggers one refetch (the provider rotated its keys), at most
      once per ``refetch_cooldown_s`` so junk tokens cannot hammer the provider.
    - A key that cannot be found or fetched raises ``Unauthenticated`` (``invalid_token``).
    - Budgets: ``connect_timeout_s`` and ``timeout_s`` (each read) per attempt; connection
      failures, timeouts and 5xx are retried, ``max_attempts`` in all, and a whole fetch
      (retries included) takes at most ``total_timeout_s``: a slow provider delays a
      sign-in by seconds, never minutes.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl_s: float = 600.0,
        refetch_cooldown_s: float = 30.0,
        timeout_s: float = 5.0,
        connect_timeout_s: float = 3.0,
        total_timeout_s: float = 8.0,
        max_attempts: int = 2,
        http: httpx.AsyncClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl_s = ttl_s
        self.refetch_cooldown_s = refetch_cooldown_s
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)))
        self._total_timeout_s = total_timeout_s
        self._max_attempts = max(1, max_attempts)
        self._owns_http = http is None
        self._monotonic = monotonic
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._fetched_at = 0.0
        self._last_kid_refetch: float | None = None
        self._lock = anyio.Lock()

    async def key_for(self, kid: str | None) -> jwt.PyJWK:
        if not kid:
            raise Unauthenticated("The token does not name its signing key (no 'kid').",
                                  code="invalid_token")
        async with self._lock:
            keys = await self._current_keys()
            if kid not in keys and self._may_refetch_for_unknown_kid():
                self._last_kid_refetch = self._monotonic()
                keys = await self._refresh(keep_old_on_failure=False)
        if kid not in keys:
            raise Unauthenticated("The token is signed with a key the identity provider "
                                  "does not publish.", code="invalid_token")
        return keys[kid]

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _current_keys(self) -> dict[str, jwt.PyJWK]:
        if self._keys is None:
            return await self._refresh(keep_old_on_failure=False)
        if self._monotonic() - self._fetched_at >= self.ttl_s:
            return await self._refresh(keep_old_on_failure=True)
        return self._keys

    def _may_refetch_for_unknown_kid(self) -> bool:
        last = self._last_kid_refetch
        return last is None or self._monotonic() - last >= self.refetch_cooldown_s

    async def _refresh(self, *, keep_old_on_failure: bool) -> dict[str, jwt.PyJWK]:
        try:
            keys = await self._fetch()
        except Unauthenticated:
            if keep_old_on_failure and self._keys is not None:
                logger.warning("Refreshing JWKS from %s failed; keeping the cached keys",
                               self.url)
                return self._keys
            raise
        self._keys, self._fetched_at = keys, self._monotonic()
        return keys

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        try:
            with anyio.fail_after(self._total_timeout_s):
                document = await self._get_document()
            key_set = jwt.PyJWKSet.from_dict(document if isinstance(document, dict) else {})
        except TimeoutError as exc:
            raise Unauthenticated(
                "The identity provider's signing keys could not be fetched (no answer within "
                f"{self._total_timeout_s:g} s).", code="invalid_token") from exc
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            raise Unauthenticated(
                f"The identity provider's signing keys could not be fetched ({exc}).",
                code="invalid_token",
            ) from exc
        return {key.key_id: key for key in key_set.keys
                if key.key_id and key.public_key_use in (None, "sig")}

    async def _get_document(self) -> object:
        """The JWKS document; transport failures and 5xx are retried (``max_attempts``)."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = await self._http.get(self.url)
                response.raise_for_status()
                return response.json()
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                server_side = not isinstance(exc, httpx.HTTPStatusError) or \
                    exc.response.status_code >= 500
                if not server_side or attempt == self._max_attempts:
                    raise
            await anyio.sleep(0.2 * attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")
