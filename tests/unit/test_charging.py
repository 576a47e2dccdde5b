"""Charging turns (DESIGN §5): holds before calls, settlement with the usage row, 402 before
anything runs, a turn stopped when the wallet runs out, plans' model allowlists, caps."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from pantheon_core.actor import Actor
from pantheon_core.domain.wallets import Bucket, EntryKind, balances
from pantheon_core.errors import Forbidden, PaymentRequired
from pantheon_core.ports.chat_model import ToolCall, Usage
from pantheon_core.usecases.deps import BillingPolicy
from tests.fake_chat import Reply
from tests.fake_tools import FakeWebSearch
from tests.fakes import FakeApp, fake_app
from tests.unit.engine_helpers import room_of, run_turn


def ledger_of(app: FakeApp, user_id: str) -> list:  # type: ignore[type-arg]
    return [e for e in app.store.ledger if e.user_id == user_id]


def assert_consistent(app: FakeApp, user_id: str) -> None:
    wallet = app.store.wallets[user_id]  # type: ignore[index]
    sums = balances(ledger_of(app, user_id))
    assert (wallet.plan_balance, wallet.topup_balance) == (sums[Bucket.PLAN], sums[Bucket.TOPUP])
    assert wallet.plan_balance >= 0 and wallet.topup_balance >= 0


async def set_balance(app: FakeApp, actor: Actor, amount: str) -> None:
    """Spend the welcome credits down to ``amount`` with an admin adjustment."""
    view = await app.uc.get_wallet(actor)
    delta = Decimal(amount) - view.wallet.available
    if delta:
        from pantheon_core.domain.wallets import adjust
        from pantheon_core.usecases.ledger import apply, open_wallet

        async with app.uc.get_wallet.deps.uow() as uow:
            wallet = await open_wallet(uow, app.uc.get_wallet.deps, actor.require_user())
            await apply(uow, adjust(wallet, delta, key="test-adjust", now=app.clock.now(),
                                    note="test", actor_id=None))
            await uow.commit()


async def test_a_turn_burns_exactly_its_usage_rows_credits() -> None:
    app = fake_app()
    actor, room = await room_of(app, "Scout", "Critic")
    before = (await app.uc.get_wallet(actor)).wallet.available
    assert before == Decimal(100)  # the welcome grant
    view = await run_turn(app, actor, room.id, "Plan it")
    spent = sum((c.credits_burned for c in app.store.calls), Decimal(0))
    after = (await app.uc.get_wallet(actor)).wallet
    assert after.available == before - spent
    assert view.turn.credits == spent
    kinds = [e.kind for e in ledger_of(app, actor.require_user())]
    assert kinds.count(EntryKind.RESERVE) == kinds.count(EntryKind.RELEASE) == 2
    assert kinds.count(EntryKind.BURN) == 2
    burns = {e.reference for e in ledger_of(app, actor.require_user()) if e.kind is EntryKind.BURN}
    assert burns == {c.id for c in app.store.calls}  # each burn names its usage row
    assert_consistent(app, actor.require_user())


async def test_an_empty_wallet_is_refused_before_anything_runs() -> None:
    app = fake_app()
    actor, room = await room_of(app, "Scout")
    await set_balance(app, actor, "0")
    with pytest.raises(PaymentRequired) as caught:
        await app.uc.send_to_room(actor, room.id, "Hi")
    assert caught.value.code == "insufficient_credits"
    assert app.store.turns == {} and app.chat.requests == []


async def test_a_wallet_that_runs_out_mid_turn_stops_the_turn() -> None:
    app = fake_app()
    actor, room = await room_of(app, "Scout", "Critic", "Judge")
    # Each call holds ~0.08 credits; the first one then costs ~0.98 of the 1 left.
    app.chat.queue("worker", Reply(text="first", usage=Usage(prompt_tokens=1000,
                                                             completion_tokens=16000)))
    await set_balance(app, actor, "1")
    view = await run_turn(app, actor, room.id, "Go")
    steps = view.timeline.to_dict()["steps"]
    assert steps[0]["status"] == "ok"
    assert steps[-1]["status"] == "failed" and steps[-1]["error"]["code"] == \
        "insufficient_credits"
    assert view.turn.status.value == "failed"
    assert view.turn.error_code == "insufficient_credits"
    assert len(steps) < 3  # the agents after the stop did not run
    assert_consistent(app, actor.require_user())
    assert (await app.uc.get_wallet(actor)).wallet.available >= 0


async def test_tool_calls_are_held_and_charged_too() -> None:
    app = fake_app(search=FakeWebSearch())
    actor, room = await room_of(app)
    await app.uc.add_agent(actor, room.id, name="Scout", model_alias="qwen", web_search=True)
    app.chat.queue("worker", Reply(tool_calls=(ToolCall("c1", "web_search",
                                                        json.dumps({"query": "x"})),)),
                   Reply(text="done"))
    await run_turn(app, actor, room.id, "Search")
    burns = [e for e in ledger_of(app, actor.require_user()) if e.kind is EntryKind.BURN]
    [record] = app.store.tool_calls
    tool_burn = [e for e in burns if e.reference == record.id]
    assert sum((e.amount for e in tool_burn), Decimal(0)) == Decimal("-0.5")
    assert_consistent(app, actor.require_user())


async def test_premium_needs_a_plan_that_includes_it() -> None:
    app = fake_app()
    actor, room = await room_of(app)
    await app.uc.add_agent(actor, room.id, name="Pro", model_alias="premium")
    await app.uc.get_wallet(actor)
    user_id = actor.require_user()
    app.store.wallets[user_id] = replace(app.store.wallets[user_id],  # type: ignore[index]
                                         plan_id="starter")
    with pytest.raises(Forbidden) as caught:
        await app.uc.send_to_room(actor, room.id, "Hi")
    assert caught.value.code == "model_not_allowed"
    assert caught.value.details["models"] == ["premium"]
    assert app.store.turns == {}
    app.store.wallets[user_id] = replace(app.store.wallets[user_id],  # type: ignore[index]
                                         plan_id="pro")
    await app.uc.send_to_room(actor, room.id, "Hi")  # Pro includes premium
    await app.settle()


async def test_an_admin_model_policy_narrows_the_plan() -> None:
    app = fake_app()
    actor, room = await room_of(app, "Scout")  # qwen
    await app.uc.get_wallet(actor)
    user_id = actor.require_user()
    app.store.wallets[user_id] = replace(app.store.wallets[user_id],  # type: ignore[index]
                                         allowed_models=("llama",))
    with pytest.raises(Forbidden) as caught:
        await app.uc.send_to_room(actor, room.id, "Hi")
    assert caught.value.code == "model_not_allowed"


async def test_a_monthly_cap_stops_sends_once_reached() -> None:
    app = fake_app()
    actor, room = await room_of(app, "Scout")
    await run_turn(app, actor, room.id, "Hi")
    user_id = actor.require_user()
    app.store.wallets[user_id] = replace(app.store.wallets[user_id],  # type: ignore[index]
                                         monthly_cap=Decimal("0.000001"))
    with pytest.raises(PaymentRequired) as caught:
        await app.uc.send_to_room(actor, room.id, "Again")
    assert caught.value.code == "credit_cap_reached"


async def test_no_welcome_credits_means_an_empty_wallet() -> None:
    app = fake_app(billing=BillingPolicy(welcome_credits=Decimal(0)))
    actor, room = await room_of(app, "Scout")
    with pytest.raises(PaymentRequired):
        await app.uc.send_to_room(actor, room.id, "Hi")


async def test_stale_holds_are_released_by_the_sweep() -> None:
    app = fake_app()
    actor, _ = await room_of(app, "Scout")
    from pantheon_core.engine.charging import CreditMeter

    meter = CreditMeter(app.uc.get_wallet.deps, actor.require_user())
    await meter.hold(Decimal(30), reference="crashed-call")
    assert (await app.uc.get_wallet(actor)).wallet.available == Decimal(70)
    assert await app.uc.sweep_reservations() == 0  # too fresh
    app.clock.advance(minutes=16)
    assert await app.uc.sweep_reservations() == 1
    assert (await app.uc.get_wallet(actor)).wallet.available == Decimal(100)
    assert await app.uc.sweep_reservations() == 0
    assert_consistent(app, actor.require_user())


async def test_grant_is_owner_only_and_audited() -> None:
    app = fake_app()
    actor, _ = await room_of(app, "Scout")
    with pytest.raises(Forbidden):
        await app.uc.grant_credits(actor, "ana@example.com", "10", reason="because")
    entry = await app.uc.grant_credits(Actor.operator(), "ana@example.com", "25.5",
                                       reason="support ticket 42")
    assert entry.amount == Decimal("25.5") and entry.note == "support ticket 42"
    assert (await app.uc.get_wallet(actor)).wallet.available == Decimal("125.5")
    refused, audit = app.store.audit_events  # the refused attempt is audited too
    assert (refused.action, refused.outcome, refused.after) == ("billing.grant", "refused", {})
    assert (audit.action, audit.outcome) == ("billing.grant", "ok")


async def test_the_wallet_reports_the_credits_held_by_open_reservations() -> None:
    from pantheon_core.domain.wallets import reserve
    from pantheon_core.usecases.ledger import apply, open_wallet

    app = fake_app()
    actor, _room = await room_of(app, "Scout")
    assert (await app.uc.get_wallet(actor)).reserved == 0
    deps = app.uc.get_wallet.deps
    async with deps.uow() as uow:
        wallet = await open_wallet(uow, deps, actor.require_user())
        held = reserve(wallet, Decimal("3.5"), reservation_id="r-open", now=app.clock.now())
        await apply(uow, held)
        await uow.commit()
    view = await app.uc.get_wallet(actor)
    assert view.reserved == Decimal("3.5")
    assert view.wallet.available == Decimal("96.5")  # the hold is already out of the buckets
    app.clock.advance(days=2)  # far older than any call: left to the sweep
    assert (await app.uc.get_wallet(actor)).reserved == 0


async def test_an_answer_without_reported_usage_is_charged_by_an_estimate_not_free() -> None:
    app = fake_app()
    actor, room = await room_of(app, "Scout")
    text = "An answer of some length. " * 40  # 1 040 characters
    app.chat.queue("worker", Reply(text=text, usage=Usage()))  # the provider sent no usage
    view = await run_turn(app, actor, room.id, "Plan it")
    [call] = app.store.calls
    assert call.status.value == "ok"
    assert call.completion_tokens == 1040 // 4 + 4  # 4 characters a token, as budgets count
    assert call.prompt_tokens > 0 and call.credits_burned > 0
    assert view.turn.credits == call.credits_burned
    assert_consistent(app, actor.require_user())
