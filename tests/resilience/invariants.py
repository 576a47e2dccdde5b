"""What must hold after any storm, kill or restart, read from the database itself.

- A turn ends ``completed``, ``partial`` or ``failed``, with a reason code when it failed
  and on each failed step; its events run ``1..last_seq`` without a gap and end with its
  one terminal event; no step is left ``running``; nothing ended in ``internal_error``.
- Usage: one row per provider attempt — :func:`assert_one_row_per_attempt` compares the
  rows' request ids with the ids the fake provider received.
- Wallets: each balance equals the sum of its ledger; no hold is left open; the credits
  burned are the credits of the usage rows, and a turn's credits are its rows' credits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pantheon_core.domain.events import TERMINAL_EVENTS, EventType, TurnEvent
from pantheon_core.domain.steps import StepStatus
from pantheon_core.domain.turns import Turn, TurnStatus
from pantheon_core.domain.usage import LlmCall
from pantheon_core.domain.wallets import Bucket, EntryKind, balances, open_holds
from pantheon_core.ids import TurnId, UserId
from pantheon_core.usecases.deps import Deps

ENDED = (TurnStatus.COMPLETED, TurnStatus.PARTIAL, TurnStatus.FAILED)


async def stored_turn(deps: Deps, turn_id: str) -> tuple[Turn, list[TurnEvent]]:
    async with deps.uow() as uow:
        turn = await uow.turns.get(TurnId(turn_id))
        assert turn is not None, turn_id
        events = list(await uow.events.list_after(turn.id, after=0))
    return turn, events


async def assert_turn_ended_with_reasons(deps: Deps, turn_id: str) -> Turn:
    """The turn's row, events and steps agree that it ended, and say why it failed."""
    turn, events = await stored_turn(deps, turn_id)
    assert turn.status in ENDED, (turn.status, turn.error_code)
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "a gap in the events"
    assert turn.last_seq == len(events), (turn.last_seq, len(events))
    terminal = [e for e in events if e.type in TERMINAL_EVENTS]
    assert terminal == events[-1:], [e.type for e in events]
    end = terminal[0]
    assert end.data["status"] == turn.status.value
    async with deps.uow() as uow:
        steps = await uow.steps.list_for_turns([turn.id])
    assert steps, "a turn that ended without a step"
    assert all(s.status is not StepStatus.RUNNING for s in steps), steps
    failed = [s for s in steps if s.status is StepStatus.FAILED]
    for step in failed:
        assert step.error_code and step.error_message, step
        assert step.error_code != "internal_error", step
    if turn.status is TurnStatus.FAILED:
        assert end.type is EventType.TURN_FAILED
        assert turn.error_code and turn.error_message, turn
        assert end.data["error"]["code"] == turn.error_code
        assert turn.error_code != "internal_error", turn
    else:
        assert end.type is EventType.TURN_COMPLETED
        assert turn.error_code is None
        assert bool(failed) == (turn.status is TurnStatus.PARTIAL), (turn.status, failed)
    assert len([e for e in events if e.type is EventType.STEP_COMPLETED]) == len(steps)
    return turn


async def usage_rows(deps: Deps) -> list[LlmCall]:
    """Every usage row (of every user)."""
    rows: list[LlmCall] = []
    start, end = datetime(1970, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1)
    after = None
    while True:
        async with deps.uow() as uow:
            batch = await uow.usage.list_between(start, end, after=after, limit=1000)
        rows += batch
        if len(batch) < 1000:
            return rows
        after = (batch[-1].created_at, batch[-1].id)


def assert_one_row_per_attempt(rows: Sequence[LlmCall],
                               received: Iterable[str | None]) -> list[LlmCall]:
    """Each request the provider received has exactly one usage row: the ``X-Request-ID``
    the adapter sent is the row's ``request_id``. Returns the rows of attempts that never
    reached the provider, each of which must be a circuit breaker's fast failure (the
    attempt is recorded, with no tokens and no credits)."""
    sent = Counter(received)
    assert None not in sent, "a request without X-Request-ID"
    assert max(sent.values(), default=1) == 1, "an attempt id sent twice"
    recorded = Counter(r.request_id for r in rows)
    duplicated = {rid: n for rid, n in recorded.items() if n > 1}
    assert not duplicated, f"attempts with more than one usage row: {duplicated}"
    assert set(sent) <= set(recorded), f"attempts without a row: {set(sent) - set(recorded)}"
    unsent = [r for r in rows if r.request_id not in sent]
    for row in unsent:
        assert (row.status.value, row.error_code) == ("error", "provider_unavailable"), row
        assert row.total_tokens == 0 and row.credits_burned == 0, row
    return unsent


async def assert_wallet_consistent(deps: Deps, user_id: str, rows: Sequence[LlmCall],
                                   turns: Sequence[Turn]) -> None:
    """The wallet is its ledger, no hold is open, burns match the user's usage rows, and
    each turn's credits are the credits of its rows."""
    async with deps.uow() as uow:
        wallet = await uow.wallets.get(UserId(user_id))
        entries = list(await uow.ledger.all_for_user(UserId(user_id)))
    assert wallet is not None
    sums = balances(entries)
    assert (wallet.plan_balance, wallet.topup_balance) == (sums[Bucket.PLAN], sums[Bucket.TOPUP])
    assert wallet.plan_balance >= 0 and wallet.topup_balance >= 0, wallet
    assert open_holds(entries) == {}, "holds left open after every turn ended"
    mine = [r for r in rows if r.user_id == user_id]
    burned = -sum((e.amount for e in entries if e.kind is EntryKind.BURN), Decimal(0))
    assert burned == sum((r.credits_burned for r in mine), Decimal(0))
    by_turn: dict[str, Decimal] = defaultdict(Decimal)
    for row in mine:
        by_turn[row.turn_id] += row.credits_burned
    for turn in turns:
        assert turn.credits == by_turn.get(turn.id, Decimal(0)), (turn.id, turn.credits)
