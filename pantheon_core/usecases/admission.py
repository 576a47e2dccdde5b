"""Admitting sends (NFR-PERF-003): running turns per user, a global cap, a per-user send rate.

A send is admitted inside the transaction that creates its turn, just before the commit.
So a refused send changes nothing (no turn, no message, no session touched, no credit
reserved), and a send refused for another reason first (``no_valid_tags``, insufficient
credits, an unknown room…) takes no slot and is not counted against the rate:

1. a running-turn slot for the user and one in the global pool, taken in one atomic step
   (:class:`SlotLeases`). The user's pool full: 429 ``too_many_running_turns``; the global
   pool full: 503 ``server_busy``; both with ``retry_after_s`` and the limit in ``details``;
2. one hit on the user's send rate (:class:`RateLimiter`): over it, 429 ``rate_limited``
   and the slots just taken are given back (a refused send does not hold a slot);
3. the commit failing gives the slots back too.

The slots are leases held by the turn id: renewed while the turn runs and released when it
ends, whichever way (completed, partial, failed, cancelled, interrupted by a shutdown, or
swept as an orphan by another process). A process that dies leaks nothing past the lease TTL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from pantheon_core.errors import PantheonError, RateLimited, Unavailable
from pantheon_core.ids import TurnId, UserId
from pantheon_core.ports.slot_leases import SlotGrant, SlotPool
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.deps import Deps

log = logging.getLogger("pantheon.admission")

GLOBAL_POOL = "turns:running:all"


def user_pool(user_id: str) -> str:
    return f"turns:running:user:{user_id}"


def send_rate_key(user_id: str) -> str:
    return f"sends:user:{user_id}"


@dataclass(frozen=True, slots=True)
class TurnTicket:
    """The slots one admitted turn holds (``keys`` empty: nothing is counted)."""

    turn_id: TurnId
    keys: tuple[str, ...]


class Admission:
    """Takes, keeps and gives back the slots of turns, by the policy in ``deps.turn_limits``."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def ticket_for(self, user_id: str, turn_id: TurnId) -> TurnTicket:
        """The slots a turn of ``user_id`` holds while it runs (none without ``SlotLeases``)."""
        if self.deps.slots is None:
            return TurnTicket(turn_id, ())
        return TurnTicket(turn_id, (user_pool(user_id), GLOBAL_POOL))

    @asynccontextmanager
    async def admitted(self, user_id: UserId, turn_id: TurnId) -> AsyncIterator[TurnTicket]:
        """Admit one send (or raise the refusal); if the block fails, give its slots back."""
        ticket = await self._admit(user_id, turn_id)
        try:
            yield ticket
        except BaseException:
            await self.release(ticket)
            raise

    async def hold(self, ticket: TurnTicket, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` (the turn) with its leases renewed, then release them however it ends."""
        failure: Exception | None = None
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._renew, ticket)
                try:
                    await work()
                except Exception as exc:  # re-raised below as itself, not as a group
                    failure = exc
                finally:
                    group.cancel_scope.cancel()
        finally:
            await self.release(ticket)
        if failure is not None:
            raise failure

    async def release(self, ticket: TurnTicket) -> None:
        """Give the ticket's slots back. A store that cannot be reached is logged, not raised:
        the leases then expire on their own."""
        slots = self.deps.slots
        if slots is None or not ticket.keys:
            return
        with anyio.CancelScope(shield=True):
            try:
                await slots.release(ticket.turn_id, ticket.keys)
            except PantheonError as exc:
                log.warning("could not release the slots of turn %s: %s", ticket.turn_id,
                            exc.message)

    async def _admit(self, user_id: UserId, turn_id: TurnId) -> TurnTicket:
        ticket = self.ticket_for(user_id, turn_id)
        limits = self.deps.turn_limits
        if self.deps.slots is not None:
            pools = (SlotPool(user_pool(user_id), limits.running_per_user),
                     SlotPool(GLOBAL_POOL, limits.running_total))
            grant = await self.deps.slots.acquire(turn_id, pools, ttl_s=limits.lease_ttl_s)
            if not grant.granted:
                raise self._refusal(grant)
        try:
            decision = await self.deps.limiter.hit(send_rate_key(user_id), limits.sends_per_user)
        except BaseException:
            await self.release(ticket)
            raise
        if not decision.allowed:
            await self.release(ticket)
            rule = limits.sends_per_user
            raise RateLimited(
                f"You are sending too fast: at most {rule.limit} messages every "
                f"{rule.window_s} s. Try again in {decision.retry_after_s} s.",
                retry_after_s=decision.retry_after_s,
                details={"limit": rule.limit, "window_s": rule.window_s})
        return ticket

    def _refusal(self, grant: SlotGrant) -> PantheonError:
        wait = self.deps.turn_limits.retry_after_s
        full = grant.full
        limit = full.limit if full is not None else 0
        details = {"limit": limit, "running": grant.in_use}
        if full is not None and full.key != GLOBAL_POOL:
            return RateLimited(
                f"You already have {grant.in_use} turns running and may run {limit} at once; "
                f"wait for one to end (or cancel one), then send again.",
                code="too_many_running_turns", retry_after_s=wait, details=details)
        message = ("Pantheon is not starting new turns right now." if limit == 0 else
                   f"Pantheon is running as many turns as it can right now ({limit}).")
        return Unavailable(f"{message} Try again in {wait} s.", code="server_busy",
                           details=details, retry_after_s=wait)

    async def _renew(self, ticket: TurnTicket) -> None:
        slots = self.deps.slots
        if slots is None or not ticket.keys:
            return
        ttl = self.deps.turn_limits.lease_ttl_s
        every = min(self.deps.engine.heartbeat_interval_s, ttl / 3)
        while True:
            await anyio.sleep(every)
            try:
                await slots.renew(ticket.turn_id, ticket.keys, ttl_s=ttl)
            except PantheonError as exc:
                log.warning("could not renew the slots of turn %s: %s", ticket.turn_id,
                            exc.message)


async def commit_admitted(uow: UnitOfWork, admission: Admission | None, user_id: UserId,
                          turn_id: TurnId) -> TurnTicket | None:
    """Commit the transaction creating a turn, admitted first when ``admission`` is given."""
    if admission is None:
        await uow.commit()
        return None
    async with admission.admitted(user_id, turn_id) as ticket:
        await uow.commit()
    return ticket
