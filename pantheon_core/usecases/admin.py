"""Admin controls (FR-ADMIN-003) and the audit log (FR-ADMIN-004): owners write, analysts
read, end users get 403 — decided here, so HTTP and the CLI cannot differ. Every write is
audited with before/after in its own transaction; every refused write is audited too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from pantheon_core.actor import Actor, Role
from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.audit import AuditEvent
from pantheon_core.domain.plans import allowed_models
from pantheon_core.domain.users import User, UserStatus, normalize_email
from pantheon_core.domain.wallets import Wallet, credits
from pantheon_core.errors import Conflict, InvalidInput, not_found
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.audit_log import record, require_owner
from pantheon_core.usecases.deps import UseCase
from pantheon_core.usecases.ledger import month_start, next_month, open_wallet

MAX_LIST = 200
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class UserSummary:
    user: User
    roles: frozenset[Role]
    wallet: Wallet
    models: tuple[str, ...]
    burned_this_month: Decimal
    running_turns: int = 0


def _reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not 3 <= len(text) <= MAX_REASON:
        raise InvalidInput(f"Give a reason (3 to {MAX_REASON} characters); it is audited.",
                           code="reason_required")
    return text


async def _user(uow: UnitOfWork, email: str) -> User:
    user = await uow.users.get_by_email(normalize_email(email))
    if user is None:
        raise not_found("user", email)
    return user


async def _summary(uow: UnitOfWork, case: UseCase, user: User) -> UserSummary:
    wallet = await open_wallet(uow, case.deps, user.id, lock=False)
    start = month_start(case.deps.clock.now())
    burned = await uow.ledger.burned_between(user.id, start, next_month(start))
    running = await uow.turns.list_running_for_user(user.id)
    models = tuple(sorted(m.value for m in allowed_models(wallet.plan_id, wallet.allowed_models)))
    return UserSummary(user=user, roles=await uow.users.roles_of(user.id), wallet=wallet,
                       models=models, burned_this_month=burned, running_turns=len(running))


def _controls(wallet: Wallet, user: User) -> dict[str, object]:
    return {"status": user.status.value,
            "monthly_cap": None if wallet.monthly_cap is None else str(wallet.monthly_cap),
            "allowed_models": None if wallet.allowed_models is None
            else list(wallet.allowed_models)}


class ListUsers(UseCase):
    async def __call__(self, actor: Actor, *, search: str | None = None,
                       status: str | None = None, after: str | None = None,
                       limit: int = 50) -> Sequence[UserSummary]:
        actor.require_admin_read()
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIST}.", code="invalid_limit")
        if status is not None and status not in {s.value for s in UserStatus}:
            raise InvalidInput("status is active or suspended.", code="invalid_status")
        async with self.deps.uow() as uow:
            users = await uow.users.search(search.strip() if search else None,
                                           after_email=after, status=status, limit=limit)
            summaries = [await _summary(uow, self, user) for user in users]
            await uow.commit()  # a first look may create wallets (with welcome credits)
        return summaries


class GetUserAdmin(UseCase):
    async def __call__(self, actor: Actor, email: str) -> UserSummary:
        actor.require_admin_read()
        async with self.deps.uow() as uow:
            summary = await _summary(uow, self, await _user(uow, email))
            await uow.commit()
        return summary


class SetCreditCap(UseCase):
    """Set (or, with ``None``, clear) a user's monthly credit cap."""

    async def __call__(self, actor: Actor, email: str, cap: Decimal | str | None) -> UserSummary:
        action = "admin.cap.clear" if cap is None else "admin.cap.set"
        await require_owner(self.deps, actor, action, email)
        value: Decimal | None = None
        if cap is not None:
            try:
                value = credits(cap)
            except ArithmeticError:
                raise InvalidInput(f"{cap!r} is not a number of credits.",
                                   code="invalid_credits") from None
            if value < 0 or value > Decimal(10_000_000):
                raise InvalidInput("A cap is between 0 and 10 000 000 credits.",
                                   code="invalid_credits")
        async with self.deps.uow() as uow:
            user = await _user(uow, email)
            wallet = await open_wallet(uow, self.deps, user.id)
            changed = replace(wallet, monthly_cap=value, updated_at=self.deps.clock.now())
            await uow.wallets.update(changed)
            await record(uow, self.deps, actor, action, user.email,
                         before=_controls(wallet, user), after=_controls(changed, user))
            summary = await _summary(uow, self, user)
            await uow.commit()
        return summary


class SetModelPolicy(UseCase):
    """Narrow the models a user may use on top of their plan: ``allow`` exactly these,
    ``deny`` these (from what the plan allows), or ``clear`` the policy."""

    async def __call__(self, actor: Actor, email: str, *, allow: Sequence[str] = (),
                       deny: Sequence[str] = (), clear: bool = False) -> UserSummary:
        await require_owner(self.deps, actor, "admin.models.set", email)
        if sum((bool(allow), bool(deny), clear)) != 1:
            raise InvalidInput("Give --allow models, --deny models, or --clear (one of them).",
                               code="invalid_policy")
        names = {a.value for a in ModelAlias}
        unknown = sorted({m for m in (*allow, *deny) if m not in names})
        if unknown:
            raise InvalidInput(f"Unknown model alias(es): {', '.join(unknown)}.",
                               code="unknown_model_alias", details={"allowed": sorted(names)})
        async with self.deps.uow() as uow:
            user = await _user(uow, email)
            wallet = await open_wallet(uow, self.deps, user.id)
            if clear:
                policy: tuple[str, ...] | None = None
            elif allow:
                policy = tuple(sorted(set(allow)))
            else:
                current = allowed_models(wallet.plan_id, wallet.allowed_models)
                policy = tuple(sorted(m.value for m in current if m.value not in set(deny)))
            changed = replace(wallet, allowed_models=policy, updated_at=self.deps.clock.now())
            await uow.wallets.update(changed)
            await record(uow, self.deps, actor, "admin.models.set", user.email,
                         before=_controls(wallet, user), after=_controls(changed, user))
            summary = await _summary(uow, self, user)
            await uow.commit()
        return summary


class SetUserStatus(UseCase):
    """Suspend (their running turns are cancelled; sign-in and API calls answer 403
    ``account_suspended``; their data is kept) or reactivate a user."""

    async def __call__(self, actor: Actor, email: str, *, suspended: bool,
                       reason: str) -> UserSummary:
        action = "admin.user.suspend" if suspended else "admin.user.reactivate"
        await require_owner(self.deps, actor, action, email)
        note = _reason(reason)
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            user = await _user(uow, email)
            if suspended and user.id == actor.user_id:
                raise Conflict("You cannot suspend yourself.", code="cannot_suspend_self")
            wallet = await open_wallet(uow, self.deps, user.id, lock=False)
            status = UserStatus.SUSPENDED if suspended else UserStatus.ACTIVE
            changed = user.with_status(status)
            await uow.users.update(changed)
            running = await uow.turns.list_running_for_user(user.id) if suspended else []
            for turn in running:
                await uow.turns.update(replace(turn, cancel_requested_at=
                                               turn.cancel_requested_at or now))
            await record(uow, self.deps, actor, action, user.email,
                         before=_controls(wallet, user),
                         after={**_controls(wallet, changed),
                                "cancelled_turns": [t.id for t in running]}, reason=note)
            await uow.commit()
        for turn in running:
            await self.deps.events.request_cancel(turn.id)
        async with self.deps.uow() as uow:
            return await _summary(uow, self, changed)


class ListAudit(UseCase):
    async def __call__(self, actor: Actor, *, actor_ref: str | None = None,
                       action: str | None = None, target: str | None = None,
                       outcome: str | None = None, since: datetime | None = None,
                       until: datetime | None = None, before: tuple[datetime, str] | None = None,
                       limit: int = 100) -> Sequence[AuditEvent]:
        actor.require_admin_read()
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIST}.", code="invalid_limit")
        if outcome is not None and outcome not in ("ok", "refused"):
            raise InvalidInput("outcome is ok or refused.", code="invalid_outcome")
        async with self.deps.uow() as uow:
            return await uow.audit.list(actor=actor_ref, action=action, target=target,
                                        outcome=outcome, since=since, until=until,
                                        before=before, limit=limit)

