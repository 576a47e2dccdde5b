"""Writing the audit log (FR-ADMIN-004, NFR-SEC-005): admin writes and security-sensitive
operations (sign-ins, sign-outs, API tokens, refused webhook signatures) are recorded in the
same transaction as their effect; refused attempts in a transaction of their own (nothing
else changes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pantheon_core.actor import Actor
from pantheon_core.domain.audit import AuditEvent, AuditOutcome
from pantheon_core.errors import Forbidden
from pantheon_core.ids import new_id
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.deps import Deps


def event(deps: Deps, actor: Actor, action: str, target: str, *,
          before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
          reason: str = "", outcome: AuditOutcome = AuditOutcome.OK) -> AuditEvent:
    return AuditEvent(id=new_id(), created_at=deps.clock.now(), actor_id=actor.user_id,
                      actor_label=actor.label, role=actor.role_label, action=action,
                      target=target, outcome=outcome, before=dict(before or {}),
                      after=dict(after or {}), reason=reason, request_id=actor.request_id,
                      client=actor.client)


async def record(uow: UnitOfWork, deps: Deps, actor: Actor, action: str, target: str, *,
                 before: Mapping[str, Any] | None = None,
                 after: Mapping[str, Any] | None = None, reason: str = "") -> None:
    """An admin write, in the caller's transaction (it commits with the change)."""
    await uow.audit.add(event(deps, actor, action, target, before=before, after=after,
                              reason=reason))


async def record_refusal(deps: Deps, actor: Actor, action: str, target: str, *,
                         reason: str) -> None:
    """A refused attempt, in a transaction of its own (nothing else changes)."""
    async with deps.uow() as uow:
        await uow.audit.add(event(deps, actor, action, target, reason=reason,
                                  outcome=AuditOutcome.REFUSED))
        await uow.commit()


async def require_owner(deps: Deps, actor: Actor, action: str, target: str) -> None:
    """``owner_required`` (403) unless the actor may write; a refusal is itself audited."""
    try:
        actor.require_admin_write()
    except Forbidden as exc:
        await record_refusal(deps, actor, action, target, reason=exc.message)
        raise
