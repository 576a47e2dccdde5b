"""The analytics use cases, called as an admin client would: through the real container
(``build_container``: SQLAlchemy async engine, psycopg, the unit of work, the repositories),
as ``Actor.operator()``; and a trace of the SQL each call runs (statement, parameters, time),
read from SQLAlchemy's cursor events, for the report and for ``EXPLAIN ANALYZE``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.analytics import answers
from bench.analytics.answers import Answer, Range
from pantheon_core.actor import Actor
from pantheon_core.usecases.catalog import UseCases

CaseCall = Callable[[UseCases, Range], Awaitable[Answer]]
OPERATOR = Actor.operator()


def _usage_rows(report_rows: Any) -> list[answers.Row]:
    out = []
    for row in report_rows:
        t = row.totals
        out.append(answers.Row(
            user=t.user_id, model=t.model_alias, day=t.day,
            sums=(t.calls, t.failed_calls, t.prompt_tokens, t.cached_tokens,
                  t.completion_tokens, t.provider_cost_usd, t.credits),
            email=row.email))
    return out


async def usage_by_user_model(uc: UseCases, r: Range) -> Answer:
    report = await uc.admin_usage(OPERATOR, start=r.start, end=r.end, by=("user", "model"))
    return answers.usage(_usage_rows(report.rows))


async def usage_page(uc: UseCases, r: Range) -> Answer:
    """The first page of the per-user per-model table, as the admin dashboard shows it."""
    report = await uc.admin_usage(OPERATOR, start=r.start, end=r.end, by=("user", "model"),
                                  limit=answers.PAGE)
    return answers.usage(_usage_rows(report.rows))


async def usage_by_model(uc: UseCases, r: Range) -> Answer:
    report = await uc.admin_usage(OPERATOR, start=r.start, end=r.end, by=("model",))
    return answers.usage(_usage_rows(report.rows))


async def costs(uc: UseCases, r: Range) -> Answer:
    summary = await uc.admin_costs(OPERATOR, start=r.start, end=r.end)
    return answers.costs([(p.day, p.provider_cost_usd, p.credits) for p in summary.series])


async def active_users(uc: UseCases, r: Range) -> Answer:
    last = r.end - timedelta(days=1)
    a = await uc.admin_active_users(OPERATOR, day=last, start=r.start)
    return answers.active(day=a.day, dau=a.dau, wau=a.wau, mau=a.mau, daily=a.daily,
                          weekly=a.weekly, monthly=a.monthly)


async def top_users_by_cost(uc: UseCases, r: Range) -> Answer:
    rows = await uc.admin_top(OPERATOR, of="users", by="cost", start=r.start, end=r.end)
    return answers.top(_usage_rows(rows))


async def top_models_by_tokens(uc: UseCases, r: Range) -> Answer:
    rows = await uc.admin_top(OPERATOR, of="models", by="tokens", start=r.start, end=r.end)
    return answers.top(_usage_rows(rows))


# name -> (how the report shows the call, the call)
CALLS: dict[str, tuple[str, CaseCall]] = {
    "usage_by_user_model": ('admin_usage(by=("user", "model"))', usage_by_user_model),
    "usage_page": (f'admin_usage(by=("user", "model"), limit={answers.PAGE})', usage_page),
    "usage_by_model": ('admin_usage(by=("model",))', usage_by_model),
    "costs": ("admin_costs", costs),
    "active_users": ("admin_active_users", active_users),
    "top_users_by_cost": ('admin_top(of="users", by="cost")', top_users_by_cost),
    "top_models_by_tokens": ('admin_top(of="models", by="tokens")', top_models_by_tokens),
}


@dataclass
class Statement:
    sql: str
    parameters: Any
    seconds: float


@dataclass
class SqlTrace:
    """Every statement SQLAlchemy sends while ``recording`` (all engines of this process)."""

    recording: bool = False
    statements: list[Statement] = field(default_factory=list)
    _started: dict[int, float] = field(default_factory=dict)

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def remove(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                context: Any, executemany: bool) -> None:
        if self.recording:
            self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any,
               context: Any, executemany: bool) -> None:
        started = self._started.pop(id(cursor), None)
        if self.recording and started is not None:
            self.statements.append(Statement(statement, parameters,
                                             time.perf_counter() - started))

    def start(self) -> None:
        self.statements = []
        self._started.clear()
        self.recording = True

    def stop(self) -> list[Statement]:
        self.recording = False
        return self.statements
