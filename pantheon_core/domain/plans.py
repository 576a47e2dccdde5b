"""Plans and who may use which model (FR-PLAN-001..003). Plans are data, not code paths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from pantheon_core.domain.agents import ModelAlias
from pantheon_core.errors import Forbidden, not_found

STANDARD = (ModelAlias.LLAMA, ModelAlias.QWEN, ModelAlias.DEEPSEEK, ModelAlias.GPT_OSS)


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    monthly_credits: Decimal
    models: tuple[ModelAlias, ...]  # the allowlist
    price_usd: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "monthly_credits": str(self.monthly_credits),
                "models": [m.value for m in self.models], "price_usd": str(self.price_usd)}


PLANS: Mapping[str, Plan] = {p.id: p for p in (
    Plan("starter", "Starter", Decimal(495), STANDARD, Decimal("9")),
    Plan("pro", "Pro", Decimal(1980), (*STANDARD, ModelAlias.PREMIUM), Decimal("29")),
    Plan("power", "Power", Decimal(4180), (*STANDARD, ModelAlias.PREMIUM), Decimal("59")),
)}
# Without a subscription (welcome or top-up credits only) every model is open: credits are
# paid up front, and premium burns them six times as fast. Plans narrow it (Starter: no premium).
NO_PLAN_MODELS = (*STANDARD, ModelAlias.PREMIUM)


def plan_named(plan_id: str) -> Plan:
    plan = PLANS.get(plan_id.strip().lower())
    if plan is None:
        raise not_found("plan", plan_id)
    return plan


def allowed_models(plan_id: str | None,
                   policy: Iterable[str] | None) -> frozenset[ModelAlias]:
    """The plan's allowlist, narrowed (never widened) by the user's admin-set policy."""
    plan = PLANS.get(plan_id) if plan_id is not None else None
    base = frozenset(plan.models if plan is not None else NO_PLAN_MODELS)
    if policy is None:
        return base
    names = {alias.value for alias in ModelAlias}
    return base & frozenset(ModelAlias(m) for m in policy if m in names)


def check_models(wanted: Iterable[ModelAlias], allowed: frozenset[ModelAlias]) -> None:
    """``model_not_allowed`` (403) naming every model of the send the user may not use."""
    refused = sorted({m.value for m in wanted} - {m.value for m in allowed})
    if refused:
        raise Forbidden(
            f"Your plan does not include the model(s) {', '.join(refused)}. "
            f"Allowed: {', '.join(sorted(m.value for m in allowed)) or 'none'}.",
            code="model_not_allowed",
            details={"models": refused, "allowed": sorted(m.value for m in allowed)})
