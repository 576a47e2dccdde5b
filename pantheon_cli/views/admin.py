"""Admin: roles, users and their controls, analytics (usage, costs, active users, top),
the audit log and rollups. Credits and money stay exact decimal strings, in tables, JSON
and CSV; the JSON has the API's shapes, and ``to`` is the last day included."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any, TypedDict, cast

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.billing import credit_text, exact
from pantheon_cli.views.cells import NONE, excerpt, iso, label, when
from pantheon_core.domain.audit import AuditEvent
from pantheon_core.domain.rollups import UsageTotals
from pantheon_core.usecases.admin import UserSummary
from pantheon_core.usecases.analytics import (
    ActiveUsers,
    AdminUsage,
    CostSummary,
    RollupResult,
    UsageReportRow,
)
from pantheon_core.usecases.users import Profile


class ProfileView(TypedDict):
    user_id: str
    email: str
    roles: list[str]
    status: str
    created_at: str | None


def profile_data(profile: Profile) -> ProfileView:
    user = profile.user
    return ProfileView(user_id=user.id, email=user.email,
                       roles=sorted(role.value for role in profile.roles),
                       status=user.status.value, created_at=iso(user.created_at))


def profiles_data(profiles: Sequence[Profile]) -> list[ProfileView]:
    return [profile_data(profile) for profile in profiles]


def admins_table(admins: list[ProfileView]) -> RenderableType:
    if not admins:
        return Text("Nobody holds an admin role. Grant one: "
                    "pantheon admin grant EMAIL --role owner", style="dim")
    table = Table(title="Admins", title_justify="left")
    table.add_column("E-mail", style="bold", overflow="fold")
    table.add_column("Roles")
    table.add_column("Status")
    table.add_column("User ID", style="dim", overflow="fold")
    for admin in admins:
        table.add_row(admin["email"], ", ".join(admin["roles"]) or NONE, admin["status"],
                      admin["user_id"])
    return table


def role_changed(verb: str, role: str) -> Callable[[ProfileView], RenderableType]:
    """A renderer confirming that ``role`` was granted or revoked."""

    def render(profile: ProfileView) -> RenderableType:
        return Text.assemble((f"{verb.capitalize()} ", "green"), (role, "bold"),
                             f" for {profile['email']}. Roles now: "
                             f"{', '.join(profile['roles']) or 'none'}.")

    return render


# --- users and their controls ---------------------------------------------------------------


class BalancesView(TypedDict):
    plan: str
    topup: str
    available: str


class UserAdminView(TypedDict):
    id: str
    email: str
    display_name: str | None
    status: str
    created_at: str | None
    roles: list[str]
    plan_id: str | None
    balances: BalancesView
    monthly_cap: str | None
    model_policy: list[str] | None
    models: list[str]
    burned_this_month: str
    running_turns: int


def user_data(summary: UserSummary) -> UserAdminView:
    user, wallet = summary.user, summary.wallet
    return UserAdminView(
        id=user.id, email=user.email, display_name=user.display_name, status=user.status.value,
        created_at=iso(user.created_at), roles=sorted(r.value for r in summary.roles),
        plan_id=wallet.plan_id,
        balances=BalancesView(plan=credit_text(wallet.plan_balance),
                              topup=credit_text(wallet.topup_balance),
                              available=credit_text(wallet.available)),
        monthly_cap=None if wallet.monthly_cap is None else credit_text(wallet.monthly_cap),
        model_policy=None if wallet.allowed_models is None else list(wallet.allowed_models),
        models=list(summary.models), burned_this_month=credit_text(summary.burned_this_month),
        running_turns=summary.running_turns)


def users_data(summaries: Sequence[UserSummary]) -> list[UserAdminView]:
    return [user_data(summary) for summary in summaries]


def _status(status: str) -> Text:
    return Text(status, style="red" if status == "suspended" else "green")


def users_table(users: list[UserAdminView]) -> RenderableType:
    if not users:
        return Text("No users match.", style="dim")
    table = Table(title="Users", title_justify="left")
    table.add_column("E-mail", style="bold", overflow="fold")
    table.add_column("Status")
    table.add_column("Roles")
    table.add_column("Available", justify="right")
    table.add_column("Burned (month)", justify="right")
    table.add_column("Cap", justify="right")
    for u in users:
        table.add_row(u["email"], _status(u["status"]), ", ".join(u["roles"]) or NONE,
                      u["balances"]["available"], u["burned_this_month"],
                      u["monthly_cap"] or NONE)
    return table


def user_panel(user: UserAdminView) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(label("Status"), _status(user["status"]))
    grid.add_row(label("Roles"), ", ".join(user["roles"]) or "none")
    grid.add_row(label("Plan"), user["plan_id"] or "none")
    balances = user["balances"]
    grid.add_row(label("Available"), f"{balances['available']} credits (plan "
                                     f"{balances['plan']}, top-up {balances['topup']})")
    grid.add_row(label("Burned this month"), user["burned_this_month"])
    grid.add_row(label("Monthly cap"), user["monthly_cap"] or "none")
    policy = user["model_policy"]
    grid.add_row(label("Model policy"), "none (the plan decides)" if policy is None
                 else ", ".join(policy) or "no models")
    grid.add_row(label("Models now"), ", ".join(user["models"]) or "none")
    grid.add_row(label("Running turns"), str(user["running_turns"]))
    grid.add_row(label("Since"), when(user["created_at"]))
    grid.add_row(label("User ID"), Text(user["id"], style="dim"))
    return Panel(grid, title=user["email"], title_align="left", expand=False)


class ManagerModelView(TypedDict):
    manager_model: str


def manager_model_set(data: ManagerModelView) -> RenderableType:
    return Text.assemble(("Manager model is now ", "green"), (data["manager_model"], "bold"),
                         " (from the next orchestrator turn).")


# --- analytics ------------------------------------------------------------------------------

METRICS = ("calls", "failed_calls", "prompt_tokens", "cached_tokens", "completion_tokens",
           "tokens", "credits", "provider_cost_usd")
CsvTable = tuple[list[str], list[list[str | int | None]]]


class MetricsView(TypedDict):
    calls: int
    failed_calls: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    tokens: int
    credits: str
    provider_cost_usd: str


class UsageRowView(MetricsView):
    user_id: str | None
    email: str | None
    model_alias: str | None
    day: str | None


def metrics(totals: UsageTotals) -> MetricsView:
    return MetricsView(calls=totals.calls, failed_calls=totals.failed_calls,
                       prompt_tokens=totals.prompt_tokens, cached_tokens=totals.cached_tokens,
                       completion_tokens=totals.completion_tokens, tokens=totals.tokens,
                       credits=credit_text(totals.credits),
                       provider_cost_usd=exact(totals.provider_cost_usd))


def usage_row(row: UsageReportRow) -> UsageRowView:
    t = row.totals
    return UsageRowView(user_id=t.user_id, email=row.email, model_alias=t.model_alias,
                        day=None if t.day is None else t.day.isoformat(), **metrics(t))


# "from" and "to", as the API names them, are keywords: hence the functional form.
UsageReportView = TypedDict("UsageReportView", {
    "from": str, "to": str, "by": list[str], "rows": list[UsageRowView],
    "totals": MetricsView, "groups": int, "offset": int})


def usage_report_data(usage: AdminUsage) -> UsageReportView:
    return UsageReportView({"from": usage.start.isoformat(), "to": _last(usage.end),
                            "by": list(usage.by), "rows": [usage_row(r) for r in usage.rows],
                            "totals": metrics(usage.total), "groups": usage.groups,
                            "offset": usage.offset})


def _last(end: date) -> str:
    """An exclusive end as the last day included."""
    return (end - timedelta(days=1)).isoformat()


def _key_columns(dims: Sequence[str]) -> list[str]:
    columns = ["user_id", "email"] if "user" in dims else []
    if "model" in dims:
        columns.append("model_alias")
    if "day" in dims or "month" in dims:
        columns.append("day")
    return columns


def _csv_rows(rows: Sequence[Mapping[str, object]], columns: list[str]) -> CsvTable:
    return columns, [[cast(str | int | None, row[c]) for c in columns] for row in rows]


def usage_csv(usage: UsageReportView) -> CsvTable:
    return _csv_rows(usage["rows"], [*_key_columns(usage["by"]), *METRICS])


_KEY_HEADERS = {"user_id": "", "email": "User", "model_alias": "Model", "day": "Day"}


def _metrics_table(title: str, keys: list[str], rows: Sequence[Mapping[str, Any]],
                   totals: MetricsView | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    shown = [k for k in keys if _KEY_HEADERS[k]]
    for key in shown:
        table.add_column(_KEY_HEADERS[key], style="bold", overflow="fold")
    for name in ("Calls", "Failed", "Tokens", "Credits", "Provider $"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*[str(row[k] or NONE) for k in shown], *_metric_cells(row))
    if totals is not None:
        table.add_section()
        table.add_row(*(["Total"] + [""] * (len(shown) - 1) if shown else []),
                      *_metric_cells(totals), style="bold")
    return table


def _metric_cells(row: Mapping[str, Any]) -> list[str]:
    return [str(row["calls"]), str(row["failed_calls"]), f"{row['tokens']:,}", row["credits"],
            row["provider_cost_usd"]]


def usage_report_table(usage: UsageReportView) -> RenderableType:
    span = f"{usage['from']} → {usage['to']}"
    if not usage["rows"]:
        return Text(f"No LLM calls ({span}).", style="dim")
    shown = len(usage["rows"])
    title = f"Usage by {', '.join(usage['by'])} · {span}"
    if shown < usage["groups"]:
        first = usage["offset"] + 1
        title += f" · rows {first}–{first + shown - 1} of {usage['groups']:,}"
    return _metrics_table(title, _key_columns(usage["by"]), usage["rows"], usage["totals"])


class CostPointView(TypedDict):
    day: str
    provider_cost_usd: str
    credits: str
    internal_cost_usd: str
    margin_usd: str


CostsView = TypedDict("CostsView", {
    "from": str, "to": str, "credit_value_usd": str, "provider_cost_usd": str, "credits": str,
    "internal_cost_usd": str, "margin_usd": str, "margin_ratio": str | None,
    "series": list[CostPointView]})


def costs_data(summary: CostSummary) -> CostsView:
    ratio = summary.margin_ratio
    return CostsView({
        "from": summary.start.isoformat(), "to": _last(summary.end),
        "credit_value_usd": exact(summary.credit_value_usd),
        "provider_cost_usd": exact(summary.provider_cost_usd),
        "credits": credit_text(summary.credits),
        "internal_cost_usd": exact(summary.internal_cost_usd),
        "margin_usd": exact(summary.margin_usd),
        "margin_ratio": None if ratio is None else exact(ratio),
        "series": [CostPointView(day=p.day.isoformat(),
                                 provider_cost_usd=exact(p.provider_cost_usd),
                                 credits=credit_text(p.credits),
                                 internal_cost_usd=exact(p.internal_cost_usd),
                                 margin_usd=exact(p.margin_usd)) for p in summary.series]})


def costs_csv(costs: CostsView) -> CsvTable:
    return _csv_rows(costs["series"], list(CostPointView.__annotations__))


def costs_table(costs: CostsView) -> RenderableType:
    table = Table(title=f"Costs · {costs['from']} → {costs['to']} · a credit is worth "
                        f"${costs['credit_value_usd']}", title_justify="left")
    table.add_column("Day", style="bold", no_wrap=True)
    for name in ("Provider $", "Credits", "Internal $", "Margin $"):
        table.add_column(name, justify="right", no_wrap=True)
    for p in costs["series"]:
        table.add_row(p["day"], p["provider_cost_usd"], p["credits"], p["internal_cost_usd"],
                      p["margin_usd"])
    table.add_section()
    ratio = costs["margin_ratio"]
    table.add_row("Total", costs["provider_cost_usd"], costs["credits"],
                  costs["internal_cost_usd"],
                  costs["margin_usd"] + ("" if ratio is None else f" ({ratio})"), style="bold")
    return table


class ActivePointView(TypedDict):
    start: str
    users: int


class ActiveView(TypedDict):
    day: str
    dau: int
    wau: int
    mau: int
    daily: list[ActivePointView]
    weekly: list[ActivePointView]
    monthly: list[ActivePointView]


def active_data(active: ActiveUsers) -> ActiveView:
    def points(series: Sequence[tuple[date, int]]) -> list[ActivePointView]:
        return [ActivePointView(start=d.isoformat(), users=n) for d, n in series]

    return ActiveView(day=active.day.isoformat(), dau=active.dau, wau=active.wau,
                      mau=active.mau, daily=points(active.daily), weekly=points(active.weekly),
                      monthly=points(active.monthly))


def active_csv(active: ActiveView) -> CsvTable:
    rows: list[list[str | int | None]] = [
        [bucket, p["start"], p["users"]] for bucket, series in
        (("day", active["daily"]), ("week", active["weekly"]), ("month", active["monthly"]))
        for p in series]
    return ["bucket", "start", "users"], rows


def active_table(active: ActiveView) -> RenderableType:
    head = Text.assemble(("Active users on ", ""), (active["day"], "bold"), ": DAU ",
                         (str(active["dau"]), "bold"), " · WAU ", (str(active["wau"]), "bold"),
                         " · MAU ", (str(active["mau"]), "bold"))
    table = Table(title="Daily active users", title_justify="left")
    table.add_column("Day", no_wrap=True)
    table.add_column("Users", justify="right")
    for point in active["daily"]:
        table.add_row(point["start"], str(point["users"]))
    return Group(head, table) if active["daily"] else head


class TopRowView(UsageRowView):
    rank: int


TopView = TypedDict("TopView", {"of": str, "by": str, "from": str, "to": str,
                                "rows": list[TopRowView]})


def top_data(rows: Sequence[UsageReportRow], *, of: str, by: str, start: date,
             end: date) -> TopView:
    return TopView({"of": of, "by": by, "from": start.isoformat(), "to": _last(end),
                    "rows": [TopRowView(rank=i, **usage_row(r))
                             for i, r in enumerate(rows, start=1)]})


def _top_keys(top: TopView) -> list[str]:
    return _key_columns(["user" if top["of"] == "users" else "model"])


def top_csv(top: TopView) -> CsvTable:
    return _csv_rows(top["rows"], ["rank", *_top_keys(top), *METRICS])


def top_table(top: TopView) -> RenderableType:
    span = f"{top['from']} → {top['to']}"
    if not top["rows"]:
        return Text(f"No LLM calls ({span}).", style="dim")
    return _metrics_table(f"Top {top['of']} by {top['by']} · {span}", _top_keys(top),
                          top["rows"])


# --- the audit log and rollups --------------------------------------------------------------


class AuditEventView(TypedDict):
    id: str
    created_at: str
    actor_id: str | None
    actor: str
    role: str
    action: str
    target: str
    outcome: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    request_id: str | None
    client: str | None


def audit_data(events: Sequence[AuditEvent]) -> list[AuditEventView]:
    return [cast(AuditEventView, event.to_dict()) for event in events]


def audit_table(events: list[AuditEventView]) -> RenderableType:
    if not events:
        return Text("No audit events match.", style="dim")
    table = Table(title="Audit log (newest first)", title_justify="left")
    table.add_column("When", no_wrap=True)
    table.add_column("Actor", overflow="fold")
    table.add_column("Action", style="bold", overflow="fold")
    table.add_column("Target", overflow="fold")
    table.add_column("Change", overflow="fold")
    for e in events:
        refused = e["outcome"] == "refused"
        table.add_row(when(e["created_at"]), f"{e['actor']} ({e['role']})",
                      Text(e["action"] + (" refused" if refused else ""),
                           style="red" if refused else ""),
                      e["target"], _change(e))
    return table


def _change(event: AuditEventView) -> str:
    """What changed: the keys whose values differ, ``key: before → after``."""
    before, after = event["before"], event["after"]
    changed = [f"{k}: {_value(before.get(k))} → {_value(after.get(k))}"
               for k in sorted({*before, *after}) if before.get(k) != after.get(k)]
    return excerpt("; ".join(changed) or event["reason"] or NONE, 80)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


RollupView = TypedDict("RollupView", {"from": str | None, "to": str | None,
                                      "added_from": str | None, "daily_rows": int,
                                      "monthly_rows": int, "watermark": str | None})


def rollup_data(result: RollupResult) -> RollupView:
    recomputed = result.start < result.end
    return RollupView({"from": result.start.isoformat() if recomputed else None,
                       "to": _last(result.end) if recomputed else None,
                       "added_from": _instant(result.added_from),
                       "daily_rows": result.daily_rows, "monthly_rows": result.monthly_rows,
                       "watermark": _instant(result.watermark)})


def _instant(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def rolled_up(result: RollupView) -> RenderableType:
    holds = (f"the rollups hold every event recorded before {result['watermark']}."
             if result["watermark"] else "nothing is rolled up yet.")
    if result["from"] is not None:
        return Text.assemble(("✓ Rolled up ", "green"),
                             (f"{result['from']} → {result['to']}", "bold"),
                             f": {result['daily_rows']} daily and {result['monthly_rows']} "
                             f"monthly rows; {holds}")
    if result["added_from"] is not None:
        return Text.assemble(("✓ Added ", "green"),
                             f"the events recorded since {result['added_from']} "
                             f"({result['daily_rows']} daily rows); {holds}")
    return Text.assemble(("✓ Nothing new to roll up", "green"), f"; {holds}")


@contextmanager
def rollup_progress(console: Console, months: int | None
                    ) -> Iterator[Callable[[date, date], None]]:
    """A bar advancing one month at a time on ``console`` while the rollup runs; yields the
    ``progress(day_from, day_to)`` callback. Silent when not a terminal."""
    if not console.is_terminal:
        yield lambda _start, _end: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Rolling up", total=months)

        def tick(start: date, end: date) -> None:
            progress.update(task, advance=1, description=f"Rolled up {start:%Y-%m}")

        yield tick
