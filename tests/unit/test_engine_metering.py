"""One usage row per LLM call attempt, with credits from the formula (AT-008, AT-009)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pantheon_core.domain.usage import CallStatus
from pantheon_core.ports.chat_model import ProviderError, Usage
from tests.fake_chat import Reply
from tests.fakes import FakeApp
from tests.unit.engine_helpers import room_of, run_turn

FIELDS = ["user_id", "room_id", "direct_session_id", "turn_id", "step_id", "agent_id",
          "provider", "model", "prompt_tokens", "completion_tokens", "cached_tokens",
          "total_tokens", "provider_cost_usd", "credits_burned", "latency_ms", "status",
          "pricing_version", "request_id"]


def calls(app: FakeApp) -> list:
    return list(app.store.calls)  # in the order they were recorded


async def test_at_008_each_call_is_one_row_with_every_field(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic", mode="orchestrator")
    view = await run_turn(app, actor, room.id, "Go")
    rows = calls(app)
    assert len(rows) == len(app.chat.requests) == 4
    assert sorted(r.purpose for r in rows) == ["plan", "synthesis", "worker", "worker"]
    steps = {s["step_id"] for s in view.timeline.to_dict()["steps"]}
    for row in rows:
        optional = {"direct_session_id"} | ({"agent_id"} if row.purpose in {"plan", "synthesis"}
                                            else set())
        assert all(getattr(row, f) is not None for f in FIELDS if f not in optional)
        assert row.turn_id == view.turn.id and row.step_id in steps
        assert row.room_id == room.id and row.user_id == actor.user_id
        assert row.status is CallStatus.OK and row.provider == "fake"
        assert row.total_tokens == row.prompt_tokens + row.completion_tokens
    assert len({r.request_id for r in rows}) == 4


async def test_at_008_retries_and_failures_are_rows_too(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic")
    app.chat.queue("worker",
                   Reply(error=ProviderError("busy", code="rate_limited", retryable=True,
                                             retry_after_s=0.01)),
                   Reply(error=ProviderError("502", code="provider_unavailable", retryable=True)),
                   Reply("finally"),
                   Reply("partial text", error=ProviderError("cut", code="provider_disconnected",
                                                             retryable=True)))
    view = await run_turn(app, actor, room.id, "Go")
    rows = calls(app)
    assert [(r.status.value, r.attempt, r.error_code) for r in rows] == [
        ("error", 1, "rate_limited"), ("error", 2, "provider_unavailable"), ("ok", 3, None),
        ("error", 1, "provider_disconnected")]  # streamed text: never retried
    steps = view.timeline.to_dict()["steps"]
    assert [s["status"] for s in steps] == ["ok", "failed"]
    assert steps[1]["content"] == "partial text"
    assert steps[0]["usage"]["calls"] == 3


async def test_a_hung_first_token_times_out_and_is_retried_then_fails(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    app.chat.queue("worker", Reply(hang=True), Reply(hang=True), Reply(hang=True))
    view = await run_turn(app, actor, room.id, "Go")
    assert view.turn.status.value == "failed"
    assert view.turn.error_code == "provider_timeout"
    assert [r.error_code for r in calls(app)] == ["provider_timeout"] * 3


@pytest.mark.parametrize(("prompt", "cached", "completion", "credits"), [
    (12_000, 2_000, 800, Decimal("0.45")),     # DESIGN.md's examples, qwen multiplier 0.6 -> 0.6
    (12_000, None, 800, Decimal("0.5")),
])
async def test_at_009_credits_follow_the_formula(app: FakeApp, prompt: int, cached: int | None,
                                                 completion: int, credits: Decimal) -> None:
    actor, room = await room_of(app, "Scout")
    app.chat.queue("worker", Reply("ok", usage=Usage(prompt, completion, cached)))
    view = await run_turn(app, actor, room.id, "Go")
    (row,) = calls(app)
    multiplier = app.store.pricing.price_of(row.model_alias).credit_multiplier  # type: ignore[arg-type]
    expected = (credits * max(multiplier, Decimal("0.5"))).quantize(Decimal("0.000001"))
    assert row.credits_burned == expected
    assert row.cached_tokens == (cached or 0)
    assert row.cached_tokens_reported is (cached is not None)
    assert view.turn.credits == expected
    assert view.timeline.outcome["credits"] == str(expected)
