"""Credits and billing: the wallet panel, the ledger, usage, quotes, grants and
reconciliation reports. Credits stay exact decimal strings, in tables and in JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import TypedDict

from rich.console import Console, RenderableType
from rich.panel import Panel
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.cells import NONE, excerpt, iso, label, when
from pantheon_core.domain.usage import UsageRow
from pantheon_core.domain.wallets import LedgerEntry, credits
from pantheon_core.usecases.billing import Quote, ReconcileReport, WalletView

STAGES = {"usage": "Usage rows checked", "wallets": "Wallets checked"}


def exact(value: Decimal) -> str:
    """An exact decimal in plain digits: ``0.00000000``, never ``0E-8``."""
    return format(value, "f")


def credit_text(value: Decimal) -> str:
    """Credits always at their 6 places: ``0.450000``, ``495.000000``."""
    return exact(credits(value))


# --- the wallet ------------------------------------------------------------------------------


class PlanData(TypedDict):
    id: str
    name: str
    monthly_credits: str


class WalletData(TypedDict):
    available: str
    plan_credits: str
    topup_credits: str
    plan: PlanData | None
    period_end: str | None
    subscription_status: str | None
    monthly_cap: str | None
    models: list[str]
    burned_this_month: str
    reserved: str


def wallet_data(view: WalletView) -> WalletData:
    wallet, plan = view.wallet, view.plan
    return WalletData(
        available=credit_text(wallet.available), plan_credits=credit_text(wallet.plan_balance),
        topup_credits=credit_text(wallet.topup_balance),
        plan=None if plan is None else PlanData(id=plan.id, name=plan.name,
                                                monthly_credits=credit_text(plan.monthly_credits)),
        period_end=iso(wallet.period_end), subscription_status=wallet.subscription_status,
        monthly_cap=None if wallet.monthly_cap is None else credit_text(wallet.monthly_cap),
        models=list(view.models), burned_this_month=credit_text(view.burned_this_month),
        reserved=credit_text(view.reserved))


def wallet_panel(wallet: WalletData) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(label("Available"), Text(f"{wallet['available']} credits", style="bold"))
    grid.add_row(label("  plan"), wallet["plan_credits"])
    grid.add_row(label("  top-up"), wallet["topup_credits"])
    grid.add_row(label("Reserved"), f"{wallet['reserved']} (held by calls in progress)")
    plan = wallet["plan"]
    grid.add_row(label("Plan"), NONE if plan is None else
                 f"{plan['name']} ({plan['monthly_credits']} credits a month)")
    grid.add_row(label("Period ends"), when(wallet["period_end"]))
    grid.add_row(label("Subscription"), wallet["subscription_status"] or NONE)
    grid.add_row(label("Monthly cap"), wallet["monthly_cap"] or "none")
    grid.add_row(label("Models"), ", ".join(wallet["models"]) or "none")
    grid.add_row(label("Burned this month"), wallet["burned_this_month"])
    return Panel(grid, title="Wallet", title_align="left", expand=False)


# --- the ledger ------------------------------------------------------------------------------


class EntryData(TypedDict):
    id: str
    kind: str
    bucket: str
    amount: str
    created_at: str | None
    reference: str
    note: str


def entry_data(entry: LedgerEntry) -> EntryData:
    return EntryData(id=entry.id, kind=entry.kind.value, bucket=entry.bucket.value,
                     amount=credit_text(entry.amount), created_at=iso(entry.created_at),
                     reference=entry.reference, note=entry.note)


def ledger_data(entries: Sequence[LedgerEntry]) -> list[EntryData]:
    return [entry_data(entry) for entry in entries]


def ledger_table(entries: list[EntryData]) -> RenderableType:
    if not entries:
        return Text("No credit transactions yet.", style="dim")
    table = Table(title="Credit transactions (newest first)", title_justify="left")
    table.add_column("When", no_wrap=True)
    table.add_column("Kind")
    table.add_column("Bucket")
    table.add_column("Amount", justify="right", no_wrap=True)
    table.add_column("For", overflow="fold")
    for entry in entries:
        negative = entry["amount"].startswith("-")
        table.add_row(when(entry["created_at"]), entry["kind"], entry["bucket"],
                      Text(entry["amount"] if negative else f"+{entry['amount']}",
                           style="red" if negative else "green"),
                      excerpt(entry["note"] or entry["reference"], 40) or NONE)
    return table


# --- usage -----------------------------------------------------------------------------------


class UsageTotalsData(TypedDict):
    calls: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    credits: str
    provider_cost_usd: str


class UsageRowData(UsageTotalsData):
    key: str


# "from" and "to", as the API names them, are keywords: hence the functional form.
UsageData = TypedDict("UsageData", {"by": str, "from": str | None, "to": str | None,
                                    "rows": list[UsageRowData], "totals": UsageTotalsData})


def usage_data(rows: Sequence[UsageRow], *, by: str, start: str | None,
               end: str | None) -> UsageData:
    totals = UsageTotalsData(
        calls=sum(r.calls for r in rows), prompt_tokens=sum(r.prompt_tokens for r in rows),
        cached_tokens=sum(r.cached_tokens for r in rows),
        completion_tokens=sum(r.completion_tokens for r in rows),
        credits=credit_text(sum((r.credits for r in rows), Decimal(0))),
        provider_cost_usd=exact(sum((r.provider_cost_usd for r in rows), Decimal(0))))
    return UsageData({"by": by, "from": start, "to": end, "totals": totals, "rows": [
        UsageRowData(key=r.key, calls=r.calls, prompt_tokens=r.prompt_tokens,
                     cached_tokens=r.cached_tokens, completion_tokens=r.completion_tokens,
                     credits=credit_text(r.credits), provider_cost_usd=exact(r.provider_cost_usd))
        for r in rows]})


def usage_table(usage: UsageData) -> RenderableType:
    span = f"{when(usage['from']) if usage['from'] else 'the 1st'} → " \
           f"{when(usage['to']) if usage['to'] else 'now'}"
    if not usage["rows"]:
        return Text(f"No LLM calls ({span}).", style="dim")
    table = Table(title=f"Usage by {usage['by']} · {span}", title_justify="left")
    table.add_column("Model" if usage["by"] == "model" else "Day", style="bold")
    for name in ("Calls", "Prompt", "Cached", "Completion", "Credits", "Provider $"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in usage["rows"]:
        table.add_row(row["key"], *_usage_cells(row))
    table.add_section()
    table.add_row(Text("Total", style="bold"), *_usage_cells(usage["totals"]), style="bold")
    return table


def _usage_cells(row: UsageTotalsData) -> list[str]:
    return [str(row["calls"]), f"{row['prompt_tokens']:,}", f"{row['cached_tokens']:,}",
            f"{row['completion_tokens']:,}", row["credits"], row["provider_cost_usd"]]


# --- quotes ----------------------------------------------------------------------------------


class QuoteData(TypedDict):
    pricing_version: str
    model_alias: str
    prompt_tokens: int
    cached_tokens: int | None
    completion_tokens: int
    tool_calls: dict[str, int]
    output_equivalent: str
    model_multiplier: str
    billed_multiplier: str
    tool_credits: str
    credits: str


def quote_data(quote: Quote, *, tool_calls: dict[str, int]) -> QuoteData:
    return QuoteData(
        pricing_version=quote.pricing_version, model_alias=quote.model_alias,
        prompt_tokens=quote.prompt_tokens, cached_tokens=quote.cached_tokens,
        completion_tokens=quote.completion_tokens,
        tool_calls={tool: n for tool, n in tool_calls.items() if n},
        output_equivalent=exact(quote.output_equivalent),
        model_multiplier=exact(quote.model_multiplier),
        billed_multiplier=exact(quote.billed_multiplier),
        tool_credits=credit_text(quote.tool_credits),
        credits=credit_text(quote.credits))


def quote_panel(quote: QuoteData) -> RenderableType:
    cached = quote["cached_tokens"]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(label("Model"), f"{quote['model_alias']} · pricing {quote['pricing_version']}")
    cached_text = "cached not reported: all fresh" if cached is None else f"{cached:,} cached"
    grid.add_row(label("Tokens"), f"{quote['prompt_tokens']:,} prompt ({cached_text}), "
                                  f"{quote['completion_tokens']:,} completion")
    grid.add_row(label("Output equivalent"), plain(quote["output_equivalent"]))
    multiplier = Text(plain(quote["model_multiplier"]))
    if Decimal(quote["billed_multiplier"]) != Decimal(quote["model_multiplier"]):
        multiplier.append(f" → {plain(quote['billed_multiplier'])} (the floor)",
                          style="yellow")
    grid.add_row(label("Multiplier"), multiplier)
    tools = ", ".join(f"{n} × {tool}" for tool, n in quote["tool_calls"].items())
    grid.add_row(label("Tool credits"), plain(quote["tool_credits"]) + (f" ({tools})" if tools
                                                                       else ""))
    grid.add_row(label("Credits"), Text(quote["credits"], style="bold green"))
    return Panel(grid, title="Quote", title_align="left", expand=False)


def plain(value: str) -> str:
    """``4500.0000`` as ``4500``, ``0.6000`` as ``0.6``: the formula's steps without noise."""
    return format(Decimal(value).normalize(), "f")


# --- grants ----------------------------------------------------------------------------------


class GrantData(TypedDict):
    email: str
    entry: EntryData


def granted(grant: GrantData) -> RenderableType:
    entry = grant["entry"]
    return Text.assemble(("Granted ", "green"), (entry["amount"], "bold"),
                         f" top-up credits to {grant['email']}",
                         (f" (entry {entry['id']}: {entry['note']})", "dim"))


# --- reconciliation --------------------------------------------------------------------------


class DiscrepancyData(TypedDict):
    kind: str
    ref: str
    expected: str
    found: str
    note: str


class ReconcileData(TypedDict):
    usage_rows: int
    wallets: int
    discrepancies: list[DiscrepancyData]


def reconcile_data(report: ReconcileReport) -> ReconcileData:
    return ReconcileData(usage_rows=report.usage_rows, wallets=report.wallets, discrepancies=[
        DiscrepancyData(kind=d.kind, ref=d.ref, expected=d.expected, found=d.found, note=d.note)
        for d in report.discrepancies])


def reconcile_table(report: ReconcileData) -> RenderableType:
    checked = f"{report['usage_rows']} usage rows and {report['wallets']} wallets checked"
    if not report["discrepancies"]:
        return Text(f"✓ No discrepancies: {checked}.", style="green")
    count = len(report["discrepancies"])
    table = Table(title=f"{count} discrepanc{'y' if count == 1 else 'ies'} ({checked})",
                  title_justify="left", title_style="bold red")
    table.add_column("Kind", no_wrap=True)
    table.add_column("Ref", overflow="fold")
    table.add_column("Expected", overflow="fold")
    table.add_column("Found", overflow="fold", style="red")
    table.add_column("Note", overflow="fold", style="dim")
    for d in report["discrepancies"]:
        table.add_row(d["kind"], d["ref"], d["expected"], d["found"], d["note"] or NONE)
    return table


@contextmanager
def reconcile_progress(console: Console) -> Iterator[Callable[[str, int], None]]:
    """A live count per stage on ``console`` while reconciliation runs; yields the
    ``progress(stage, count)`` callback the use case calls. Silent when not a terminal."""
    if not console.is_terminal:
        yield lambda _stage, _count: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"),
               TextColumn("[bold]{task.completed}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def tick(stage: str, count: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(STAGES.get(stage, stage), total=None)
            progress.update(tasks[stage], completed=count)

        yield tick
