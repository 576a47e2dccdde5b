"""The ``ProviderStats`` port: what the LLM provider itself recorded about a generation, so
reconciliation can compare it with our usage rows (OpenRouter's generation stats)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class GenerationStats:
    generation_id: str
    total_cost_usd: Decimal
    tokens_prompt: int | None = None
    tokens_completion: int | None = None


class ProviderStats(Protocol):
    """``generation`` returns the provider's record, or None when it has none (yet).
    Failures raise ``Unavailable(code="provider_stats_unavailable")``."""

    async def generation(self, generation_id: str) -> GenerationStats | None: ...
