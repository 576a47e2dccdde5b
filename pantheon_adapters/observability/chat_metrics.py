"""The ``ChatModel`` port, measured: a decorator around any provider adapter (NFR-OBS-003).

Each ``stream`` call is one attempt; when it ends it counts into
``pantheon_llm_calls_total{model_alias, status}`` and its duration into
``pantheon_llm_call_duration_seconds``. ``status`` is ``ok`` once the provider reported
usage, the :class:`ProviderError` code when it failed (``rate_limited``,
``provider_timeout``…), ``cancelled`` when the engine stopped reading first (a deadline, a
stopped turn), ``error`` for anything else. The core engine never sees the difference.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio

from pantheon_adapters.observability.metrics import Metrics
from pantheon_core.ports.chat_model import (
    CallFinished,
    ChatChunk,
    ChatModel,
    ChatRequest,
    ProviderError,
)

UNKNOWN_ALIAS = "unknown"


class MeasuredChatModel:
    """A ``ChatModel`` that forwards to ``inner`` and records every attempt in ``metrics``."""

    def __init__(self, inner: ChatModel, metrics: Metrics) -> None:
        self.inner = inner
        self._metrics = metrics

    @property
    def provider(self) -> str:
        return self.inner.provider

    def model_label(self, model: str) -> str:
        return self.inner.model_label(model)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        started = time.perf_counter()
        status = "cancelled"  # until the provider finishes or fails
        chunks = self.inner.stream(request)
        try:
            async for chunk in chunks:
                if isinstance(chunk, CallFinished):
                    status = "ok"
                yield chunk
            if status != "ok":
                status = "error"  # ended without usage: the engine reports it as a failure
        except ProviderError as exc:
            status = exc.code
            raise
        except Exception:
            status = "error"
            raise
        finally:
            self._metrics.observe_llm_call(model_alias=request.model_alias or UNKNOWN_ALIAS,
                                           status=status,
                                           duration_s=time.perf_counter() - started)
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
