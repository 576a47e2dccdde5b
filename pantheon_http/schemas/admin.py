"""Admin controls, analytics, the audit log and job runs, as the API shows them
(FR-ADMIN-*). Credits and money are exact decimal strings; days are UTC dates, and a
range's ``to`` is the last day included.

Every analytics answer can also be CSV: :meth:`csv` gives the header and the rows, the
same values as the JSON (decimals as the same plain strings).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from pantheon_core.domain.audit import AuditEvent
from pantheon_core.domain.jobs import JobRun
from pantheon_core.domain.rollups import UsageTotals
from pantheon_core.domain.wallets import credits
from pantheon_core.usecases.admin import UserSummary
from pantheon_core.usecases.analytics import (
    ActiveUsers,
    AdminUsage,
    CostSummary,
    RollupResult,
    UsageReportRow,
)
from pantheon_http.schemas.base import RequestModel
from pantheon_http.schemas.billing import CREDITS, BucketBalancesOut

CsvCell = str | int | None
CsvTable = tuple[list[str], list[list[CsvCell]]]
METRICS = ("calls", "failed_calls", "prompt_tokens", "cached_tokens", "completion_tokens",
           "tokens", "credits", "provider_cost_usd")


def exact(value: Decimal) -> str:
    """An exact decimal in plain digits: ``0.00000000``, never ``0E-8``."""
    return format(value, "f")


def credit_text(value: Decimal) -> str:
    """Credits always at their 6 places: ``0.450000``."""
    return exact(credits(value))


# --- users and their controls ---------------------------------------------------------------


class UserAdminOut(BaseModel):
    id: str
    email: str
    display_name: str | None
    status: Literal["active", "suspended"]
    created_at: datetime
    roles: list[str] = Field(description="Admin roles: `owner`, `analyst`.")
    plan_id: str | None
    balances: BucketBalancesOut
    monthly_cap: str | None = Field(description=f"Null: no cap. {CREDITS}")
    model_policy: list[str] | None = Field(description="The admin's allowlist on top of the "
                                                       "plan's; null: the plan decides.")
    models: list[str] = Field(description="The model aliases the user may use now.")
    burned_this_month: str = Field(description=CREDITS)
    running_turns: int

    @classmethod
    def of(cls, summary: UserSummary) -> UserAdminOut:
        user, wallet = summary.user, summary.wallet
        return cls(
            id=user.id, email=user.email, display_name=user.display_name,
            status=user.status.value, created_at=user.created_at,
            roles=sorted(r.value for r in summary.roles), plan_id=wallet.plan_id,
            balances=BucketBalancesOut(plan=credit_text(wallet.plan_balance),
                                       topup=credit_text(wallet.topup_balance),
                                       available=credit_text(wallet.available)),
            monthly_cap=None if wallet.monthly_cap is None else credit_text(wallet.monthly_cap),
            model_policy=None if wallet.allowed_models is None else list(wallet.allowed_models),
            models=list(summary.models), burned_this_month=credit_text(summary.burned_this_month),
            running_turns=summary.running_turns)


class UsersPageOut(BaseModel):
    users: list[UserAdminOut] = Field(description="By e-mail.")
    next_after: str | None = Field(description="Pass as `after` for the next page; null on "
                                               "the last.")

    @classmethod
    def of(cls, summaries: Sequence[UserSummary], *, limit: int) -> UsersPageOut:
        full = bool(summaries) and len(summaries) >= limit
        return cls(users=[UserAdminOut.of(s) for s in summaries],
                   next_after=summaries[-1].user.email if full else None)


class CapIn(RequestModel):
    credits: str = Field(max_length=40, examples=["500"],
                         description="The monthly cap, in credits (0 to 10 000 000).")


class ReasonIn(RequestModel):
    reason: str = Field(max_length=2000, examples=["Chargeback under review"],
                        description="Why, 3-500 characters; it is audited.")


class ModelPolicyIn(RequestModel):
    """Exactly one of ``allow``, ``deny`` and ``clear``."""

    allow: list[str] | None = Field(None, max_length=20, examples=[["qwen", "llama"]],
                                    description="Allow exactly these aliases (within the "
                                                "plan).")
    deny: list[str] | None = Field(None, max_length=20, examples=[["premium"]],
                                   description="Take these away from what the plan allows.")
    clear: bool = Field(False, description="Drop the policy: the plan decides again.")

    @model_validator(mode="after")
    def _exactly_one(self) -> ModelPolicyIn:
        if sum((self.allow is not None, self.deny is not None, self.clear)) != 1:
            raise ValueError("Send exactly one of allow, deny and clear")
        return self


class ManagerModelIn(RequestModel):
    model_alias: str = Field(max_length=40, examples=["deepseek"])


class ManagerModelOut(BaseModel):
    manager_model: str = Field(description="The orchestrator's manager model, for every room.")


class GrantIn(RequestModel):
    credits: str = Field(max_length=40, examples=["50"], description="Top-up credits to add.")
    reason: str = Field(max_length=2000, description="Why, 3-500 characters; it is audited.")


# --- analytics ------------------------------------------------------------------------------


class UsageMetrics(BaseModel):
    calls: int
    failed_calls: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    tokens: int = Field(description="Prompt plus completion tokens.")
    credits: str = Field(description=CREDITS)
    provider_cost_usd: str = Field(description="What the providers charged, in US dollars.")

    @staticmethod
    def values(totals: UsageTotals) -> dict[str, Any]:
        return {"calls": totals.calls, "failed_calls": totals.failed_calls,
                "prompt_tokens": totals.prompt_tokens, "cached_tokens": totals.cached_tokens,
                "completion_tokens": totals.completion_tokens, "tokens": totals.tokens,
                "credits": credit_text(totals.credits),
                "provider_cost_usd": exact(totals.provider_cost_usd)}


class UsageRowOut(UsageMetrics):
    user_id: str | None = Field(description="Null unless grouped by user.")
    email: str | None
    model_alias: str | None = Field(description="Null unless grouped by model.")
    day: date | None = Field(description="The day, or the month's first day; null unless "
                                         "grouped by day or month.")

    @classmethod
    def of(cls, row: UsageReportRow) -> UsageRowOut:
        t = row.totals
        return cls(user_id=t.user_id, email=row.email, model_alias=t.model_alias, day=t.day,
                   **cls.values(t))


def _key_columns(dims: Sequence[str]) -> list[str]:
    columns = []
    if "user" in dims:
        columns += ["user_id", "email"]
    if "model" in dims:
        columns.append("model_alias")
    if "day" in dims or "month" in dims:
        columns.append("day")
    return columns


def _cells(row: BaseModel, columns: Sequence[str]) -> list[CsvCell]:
    values = row.model_dump(mode="json")
    return [values[c] for c in columns]


class AdminUsageOut(BaseModel):
    start: date = Field(alias="from")
    end: date = Field(alias="to", description="The last day included.")
    by: list[str]
    rows: list[UsageRowOut] = Field(description="By credits, most first (a page when a "
                                    "limit or an offset was given).")
    totals: UsageMetrics = Field(description="Of every row, not only this page's.")
    groups: int = Field(description="How many rows there are in all.")
    offset: int

    @classmethod
    def of(cls, usage: AdminUsage) -> AdminUsageOut:
        return cls.model_validate({
            "from": usage.start, "to": usage.end - timedelta(days=1), "by": list(usage.by),
            "rows": [UsageRowOut.of(r) for r in usage.rows],
            "totals": UsageMetrics(**UsageMetrics.values(usage.total)),
            "groups": usage.groups, "offset": usage.offset})

    def csv(self) -> CsvTable:
        columns = [*_key_columns(self.by), *METRICS]
        return columns, [_cells(r, columns) for r in self.rows]


class CostPointOut(BaseModel):
    day: date
    provider_cost_usd: str
    credits: str = Field(description=CREDITS)
    internal_cost_usd: str = Field(description="Credits × the value of a credit.")
    margin_usd: str


class CostsOut(BaseModel):
    start: date = Field(alias="from")
    end: date = Field(alias="to", description="The last day included.")
    credit_value_usd: str
    provider_cost_usd: str
    credits: str = Field(description=CREDITS)
    internal_cost_usd: str
    margin_usd: str
    margin_ratio: str | None = Field(description="Margin over internal cost; null when there "
                                                 "is none.")
    series: list[CostPointOut] = Field(description="One point per day with usage.")

    @classmethod
    def of(cls, summary: CostSummary) -> CostsOut:
        ratio = summary.margin_ratio
        return cls.model_validate({
            "from": summary.start, "to": summary.end - timedelta(days=1),
            "credit_value_usd": exact(summary.credit_value_usd),
            "provider_cost_usd": exact(summary.provider_cost_usd),
            "credits": credit_text(summary.credits),
            "internal_cost_usd": exact(summary.internal_cost_usd),
            "margin_usd": exact(summary.margin_usd),
            "margin_ratio": None if ratio is None else exact(ratio),
            "series": [CostPointOut(day=p.day, provider_cost_usd=exact(p.provider_cost_usd),
                                    credits=credit_text(p.credits),
                                    internal_cost_usd=exact(p.internal_cost_usd),
                                    margin_usd=exact(p.margin_usd)) for p in summary.series]})

    def csv(self) -> CsvTable:
        columns = list(CostPointOut.model_fields)
        return columns, [_cells(p, columns) for p in self.series]


class ActivePointOut(BaseModel):
    start: date = Field(description="The bucket's first day (weeks start on Monday).")
    users: int = Field(description="Distinct users with at least one LLM call.")


class ActiveOut(BaseModel):
    day: date = Field(description="The last day counted.")
    dau: int
    wau: int = Field(description="The 7 days ending on `day`.")
    mau: int = Field(description="The 30 days ending on `day`.")
    daily: list[ActivePointOut]
    weekly: list[ActivePointOut]
    monthly: list[ActivePointOut]

    @classmethod
    def of(cls, active: ActiveUsers) -> ActiveOut:
        def points(series: Sequence[tuple[date, int]]) -> list[ActivePointOut]:
            return [ActivePointOut(start=d, users=n) for d, n in series]

        return cls(day=active.day, dau=active.dau, wau=active.wau, mau=active.mau,
                   daily=points(active.daily), weekly=points(active.weekly),
                   monthly=points(active.monthly))

    def csv(self) -> CsvTable:
        rows: list[list[CsvCell]] = [
            [bucket, p.start.isoformat(), p.users]
            for bucket, series in (("day", self.daily), ("week", self.weekly),
                                   ("month", self.monthly)) for p in series]
        return ["bucket", "start", "users"], rows


class TopRowOut(UsageRowOut):
    rank: int


class TopOut(BaseModel):
    of: Literal["users", "models"]
    by: Literal["cost", "tokens"]
    start: date = Field(alias="from")
    end: date = Field(alias="to", description="The last day included.")
    rows: list[TopRowOut]

    @classmethod
    def of_rows(cls, rows: Sequence[UsageReportRow], *, of: Literal["users", "models"],
                by: Literal["cost", "tokens"], start: date, end: date) -> TopOut:
        return cls.model_validate({
            "of": of, "by": by, "from": start, "to": end - timedelta(days=1),
            "rows": [TopRowOut(rank=i, **UsageRowOut.of(r).model_dump())
                     for i, r in enumerate(rows, start=1)]})

    def csv(self) -> CsvTable:
        columns = ["rank", *_key_columns(["user" if self.of == "users" else "model"]), *METRICS]
        return columns, [_cells(r, columns) for r in self.rows]


class RollupIn(RequestModel):
    """Both optional: from the day before the last run (or the oldest usage) to today."""

    start: date | None = Field(None, alias="from", strict=False, examples=["2026-11-01"])
    end: date | None = Field(None, alias="to", strict=False, examples=["2026-11-26"],
                             description="The last day included.")


class RollupOut(BaseModel):
    start: date | None = Field(alias="from", description="The first day recomputed from the "
                               "raw events; null when the run only added new events.")
    end: date | None = Field(alias="to", description="The last day recomputed, included.")
    added_from: datetime | None = Field(description="The run added the events recorded in "
                                        "[added_from, watermark) to their days' rollups.")
    daily_rows: int
    monthly_rows: int
    watermark: datetime | None = Field(description="The rollups hold every usage event "
                                       "recorded before this instant; analytics read the "
                                       "events recorded since from the raw rows.")

    @classmethod
    def of(cls, result: RollupResult) -> RollupOut:
        recomputed = result.start < result.end
        return cls.model_validate({
            "from": result.start if recomputed else None,
            "to": result.end - timedelta(days=1) if recomputed else None,
            "added_from": result.added_from, "daily_rows": result.daily_rows,
            "monthly_rows": result.monthly_rows, "watermark": result.watermark})


# --- the audit log and job runs -------------------------------------------------------------


class AuditEventOut(BaseModel):
    id: str
    created_at: datetime
    actor_id: str | None
    actor: str = Field(description="The actor's e-mail, or `operator`.")
    role: str = Field(examples=["owner", "analyst", "operator", "user"])
    action: str = Field(examples=["admin.cap.set", "admin.user.suspend", "billing.grant"])
    target: str = Field(examples=["ann@example.com", "manager_model"])
    outcome: Literal["ok", "refused"]
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    request_id: str | None
    client: str | None = Field(description="The client address, or `cli`.")

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls.model_validate({**event.to_dict(), "created_at": event.created_at})


class AuditCursor(BaseModel):
    """Pass both as ``before_at`` and ``before_id`` for the next (older) page."""

    before_at: datetime
    before_id: str


class AuditPageOut(BaseModel):
    events: list[AuditEventOut] = Field(description="Newest first.")
    next: AuditCursor | None = Field(description="The next page's cursor; null on the last.")

    @classmethod
    def of(cls, events: Sequence[AuditEvent], *, limit: int) -> AuditPageOut:
        last = events[-1] if len(events) >= limit else None
        return cls(events=[AuditEventOut.of(e) for e in events],
                   next=None if last is None else AuditCursor(before_at=last.created_at,
                                                              before_id=last.id))


class JobRunOut(BaseModel):
    id: str
    name: str
    message_id: str
    attempt: int
    status: str = Field(examples=["running", "succeeded", "retrying", "failed", "abandoned"])
    subject: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    error: str | None

    @classmethod
    def of(cls, run: JobRun) -> JobRunOut:
        return cls(id=run.id, name=run.name, message_id=run.message_id, attempt=run.attempt,
                   status=run.status.value, subject=run.subject, started_at=run.started_at,
                   finished_at=run.finished_at, duration_ms=run.duration_ms, error=run.error)
