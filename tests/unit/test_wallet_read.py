"""Reading a wallet (GET /billing/wallet): without a lock when nothing is due, else the
locking path that creates it or expires its plan credits, exactly as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from pantheon_core.domain.wallets import EntryKind
from tests.fakes import FakeApp, fake_app
from tests.unit.helpers import sign_up


async def test_a_first_look_creates_the_wallet_with_its_welcome_grant() -> None:
    app: FakeApp = fake_app()
    ada = await sign_up(app, "ada@example.com")
    view = await app.uc.get_wallet(ada)
    user_id = ada.require_user()
    assert app.store.wallets[user_id] == view.wallet
    assert [e.kind for e in app.store.ledger if e.user_id == user_id] == [EntryKind.GRANT]


async def test_a_wallet_with_nothing_due_is_read_as_it_is() -> None:
    app = fake_app()
    ada = await sign_up(app, "ada@example.com")
    first = await app.uc.get_wallet(ada)
    entries = len(app.store.ledger)
    again = await app.uc.get_wallet(ada)
    assert again.wallet == first.wallet and len(app.store.ledger) == entries


async def test_plan_credits_past_their_period_expire_when_the_wallet_is_read() -> None:
    app = fake_app()
    ada = await sign_up(app, "ada@example.com")
    user_id = ada.require_user()
    await app.uc.get_wallet(ada)
    app.store.wallets[user_id] = replace(app.store.wallets[user_id], plan_balance=Decimal("5"),
                                         plan_id="pro",
                                         period_end=app.clock.now() - timedelta(seconds=1))
    view = await app.uc.get_wallet(ada)
    assert view.wallet.plan_balance == 0
    assert app.store.wallets[user_id].plan_balance == 0
    assert app.store.ledger[-1].kind is EntryKind.EXPIRE
    assert app.store.ledger[-1].amount == Decimal("-5")
