"""OpenRouter's generation stats: ``GET {base}/generation?id=…`` → ``{"data": {...}}``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import httpx

from pantheon_core.errors import Unavailable
from pantheon_core.ports.provider_stats import GenerationStats

OPENROUTER_API = "https://openrouter.ai/api/v1"


class OpenRouterStats:
    """``ProviderStats`` for OpenRouter. 404 (not recorded, or not yet) is ``None``."""

    def __init__(self, api_key: str, *, base_url: str = OPENROUTER_API,
                 timeout_s: float = 15.0, http: httpx.AsyncClient | None = None) -> None:
        self._url = base_url.rstrip("/") + "/generation"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._http = http or httpx.AsyncClient(timeout=timeout_s)

    async def generation(self, generation_id: str) -> GenerationStats | None:
        try:
            response = await self._http.get(self._url, params={"id": generation_id},
                                            headers=self._headers)
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
