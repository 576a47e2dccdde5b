"""Charging a turn as it runs (DESIGN §5): hold an upper bound before each LLM call and tool
call, then settle to the actual credits in the same transaction that writes the usage row.

A wallet that cannot cover the next hold stops the turn (``insufficient_credits``) after the
steps already done; holds left by a crashed process are released by a sweep.
"""

from __future__ import annotations

import math
from decimal import Decimal

from pantheon_core.domain.pricing import ModelPrice, PricingVersion
from pantheon_core.domain.tools import FileAccess, ToolCallRecord
from pantheon_core.domain.usage import LlmCall
from pantheon_core.domain.wallets import EntryKind, reserve, settle
from pantheon_core.ids import UserId, new_id
from pantheon_core.ports.chat_model import ChatRequest
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.deps import Deps
from pantheon_core.usecases.ledger import apply, check_cap, open_wallet

PER_MESSAGE_TOKENS = 8


def call_bound(request: ChatRequest, price: ModelPrice, pricing: PricingVersion, *,
               chars_per_token: int, default_max_tokens: int) -> Decimal:
    """The most a call can cost: every prompt character-pair a fresh token, the whole
    ``max_tokens`` of output, no cache discount."""
    chars = sum(len(m.content) + sum(len(c.arguments) for c in m.tool_calls)
                for m in request.messages)
    tools = sum(len(t.description) + len(str(t.parameters)) for t in request.tools)
    prompt = math.ceil((chars + tools) / max(chars_per_token, 1)) \
        + PER_MESSAGE_TOKENS * len(request.messages)
    completion = request.max_tokens or default_max_tokens
    return pricing.credits(prompt_tokens=prompt, completion_tokens=completion,
                           cached_tokens=0, model_multiplier=price.credit_multiplier)


class CreditMeter:
    """Holds and settles credits for one user's turn. Every method is one transaction."""

    def __init__(self, deps: Deps, user_id: UserId) -> None:
        self.deps = deps
        self.user_id = user_id

    async def hold_for_call(self, request: ChatRequest, price: ModelPrice,
                            pricing: PricingVersion) -> str:
        bound = call_bound(request, price, pricing,
                           chars_per_token=self.deps.billing.prompt_chars_per_token_bound,
                           default_max_tokens=self.deps.engine.max_output_tokens)
        return await self.hold(bound, reference=request.request_id)

    async def hold(self, amount: Decimal, *, reference: str) -> str:
        """Reserve ``amount``; ``insufficient_credits`` / ``credit_cap_reached`` if the wallet
        cannot. Returns the reservation id."""
        reservation_id = new_id()
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            wallet = await open_wallet(uow, self.deps, self.user_id)
            await check_cap(uow, wallet, now, amount)
            await apply(uow, reserve(wallet, amount, reservation_id=reservation_id, now=now,
                                     reference=reference))
            await uow.commit()
        return reservation_id

    async def settle_call(self, reservation_id: str | None, call: LlmCall) -> None:
        """Write the usage row and burn its credits (releasing the hold), atomically."""
        async with self.deps.uow() as uow:
            await self._settle(uow, reservation_id, call.credits_burned, key=f"burn:{call.id}",
                               reference=call.id)
            await uow.usage.add(call)
            await uow.commit()

    async def settle_tool(self, reservation_id: str | None, record: ToolCallRecord,
                          access: FileAccess | None) -> None:
        async with self.deps.uow() as uow:
            await self._settle(uow, reservation_id, record.credits, key=f"burn:{record.id}",
                               reference=record.id)
            await uow.tool_usage.add_call(record)
            if access is not None:
                await uow.tool_usage.add_file_access(access)
            await uow.commit()

    async def _settle(self, uow: UnitOfWork, reservation_id: str | None, actual: Decimal, *,
                      key: str, reference: str) -> None:
        if reservation_id is None and actual == 0:
            return
        wallet = await open_wallet(uow, self.deps, self.user_id)
        entries = list(await uow.ledger.reservation(reservation_id)) if reservation_id else []
        released = any(e.kind is EntryKind.RELEASE for e in entries)  # by the sweep, already
        held = [] if released else [e for e in entries if e.kind is EntryKind.RESERVE]
        await apply(uow, settle(wallet, held, actual, key=key, now=self.deps.clock.now(),
                                reference=reference))
