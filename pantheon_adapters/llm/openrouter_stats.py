"""OpenRouter's generation stats: ``GET {base}/generation?id=…`` → ``{"data": {...}}``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import anyio
import httpx

from pantheon_core.errors import Unavailable
from pantheon_core.ports.provider_stats import GenerationStats

OPENROUTER_API = "https://openrouter.ai/api/v1"


class OpenRouterStats:
    """``ProviderStats`` for OpenRouter. 404 (not recorded, or not yet) is ``None``.

    One attempt per lookup, within ``timeout_s`` as a whole (connecting within
    ``connect_timeout_s``); the reconcile job that asks is retried by the job queue.
    """

    def __init__(self, api_key: str, *, base_url: str = OPENROUTER_API,
                 timeout_s: float = 15.0, connect_timeout_s: float = 5.0,
                 http: httpx.AsyncClient | None = None) -> None:
        self._url = base_url.rstrip("/") + "/generation"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._timeout_s = timeout_s
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)))

    async def generation(self, generation_id: str) -> GenerationStats | None:
        try:
            with anyio.fail_after(self._timeout_s):
                response = await self._http.get(self._url, params={"id": generation_id},
                                                headers=self._headers)
        except TimeoutError as exc:
            raise Unavailable(f"OpenRouter's generation stats did not come within "
                              f"{self._timeout_s:g} s.", code="provider_stats_unavailable",
                              ) from exc
        except httpx.HTTPError as exc:
            raise Unavailable(f"OpenRouter's generation stats could not be read: {exc}",
                              code="provider_stats_unavailable") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise Unavailable(f"OpenRouter answered {response.status_code} for generation "
                              f"{generation_id}.", code="provider_stats_unavailable")
        try:
            data = response.json()["data"]
            cost = Decimal(str(data.get("total_cost", data.get("usage"))))
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise Unavailable("OpenRouter's generation stats were not understood.",
                              code="provider_stats_unavailable") from exc
        return GenerationStats(generation_id=generation_id, total_cost_usd=cost,
                               tokens_prompt=data.get("tokens_prompt"),
                               tokens_completion=data.get("tokens_completion"))

    async def aclose(self) -> None:
        await self._http.aclose()
