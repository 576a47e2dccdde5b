"""Reconciliation compares each OpenRouter usage row's cost with OpenRouter's own generation
record (``GET /generation?id=…``), against the fake OpenRouter on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from pantheon_adapters.llm.openai_compatible import OpenAICompatibleChatModel
from pantheon_adapters.llm.openrouter_stats import OpenRouterStats
from pantheon_core.actor import Actor
from tests.fakes import FAST_ENGINE, fake_app
from tests.integration.fake_openrouter import FakeOpenRouter, serving, text_reply
from tests.unit.engine_helpers import room_of, run_turn


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenRouter]:
    with serving(FakeOpenRouter()) as fake:
        yield fake


async def test_reconcile_checks_costs_against_openrouter(provider: FakeOpenRouter) -> None:
    provider.reset()
    chat = OpenAICompatibleChatModel(provider.base_url, api_key="sk-test", openrouter=True,
                                     read_s=1.0, connect_s=1.0)
    stats = OpenRouterStats("sk-test", base_url=provider.base_url)
    app = fake_app(chat=chat, provider_stats=stats,
                   engine=replace(FAST_ENGINE, first_token_timeout_s=1.0))
    try:
        actor, room = await room_of(app, "Scout", "Critic")
        provider.script(text_reply(["one"], cost=0.0021), text_reply(["two"], cost=0.0005))
        await run_turn(app, actor, room.id, "Hi")
        first, second = app.store.calls
        assert first.generation_id and second.generation_id
        provider.generations[first.generation_id] = {"id": first.generation_id,
                                                     "total_cost": 0.0021}
        clean = await app.uc.reconcile(Actor.operator())
        assert clean.discrepancies == []
        assert (clean.provider_checked, clean.provider_missing) == (1, 1)

        provider.generations[second.generation_id] = {"id": second.generation_id,
                                                      "total_cost": 0.0009}
        report = await app.uc.reconcile(Actor.operator())
        [found] = report.discrepancies
        assert (found.kind, found.ref, found.expected, found.found) == (
            "provider_cost", second.id, "0.0009", "0.0005")
    finally:
        await chat.aclose()
        await stats.aclose()
