"""The audit log (FR-ADMIN-004, NFR-SEC-005): every admin write, and every refused admin
attempt, with who, in what role, what, on what, the values before and after, the request id,
the client address and the time. Append-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AuditOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # the actor was not allowed; nothing changed


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    created_at: datetime
    actor_id: str | None
    actor_label: str  # e-mail, or "operator"
    role: str  # operator | owner | analyst | user
    action: str  # e.g. admin.cap.set, admin.user.suspend, billing.grant
    target: str  # e.g. the user's e-mail, "manager_model"
    outcome: AuditOutcome = AuditOutcome.OK
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    request_id: str | None = None
    client: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": self.created_at.isoformat(),
                "actor_id": self.actor_id, "actor": self.actor_label, "role": self.role,
                "action": self.action, "target": self.target, "outcome": self.outcome.value,
                "before": dict(self.before), "after": dict(self.after), "reason": self.reason,
                "request_id": self.request_id, "client": self.client}
