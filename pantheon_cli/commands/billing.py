"""``pantheon billing``: wallets, the ledger, usage, quotes, grants, reconciliation, and
Stripe's checkout and portal links.

``wallet``, ``ledger``, ``usage``, ``checkout`` and ``portal`` act as the ``--as`` user.
``grant`` and ``reconcile`` run as the local operator without ``--as`` (core lets an owner,
or for reconcile an analyst, do the same). ``quote`` is the pure credit formula: no user.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal

import typer

from pantheon_cli.options import JsonFlag
from pantheon_cli.output import EXIT_ERROR, Output
from pantheon_cli.runner import Identity, Invocation, Session
from pantheon_cli.views import billing as views
from pantheon_cli.views.cells import iso

app = typer.Typer(help="Credits: wallet, ledger, usage, quotes, grants and reconciliation.",
                  no_args_is_help=True)

FromOption = Annotated[str | None, typer.Option(
    "--from", metavar="DATE", help="From this UTC day (YYYY-MM-DD) or instant (ISO 8601).")]
ToOption = Annotated[str | None, typer.Option(
    "--to", metavar="DATE", help="Up to this UTC day, included (YYYY-MM-DD), or this "
                                 "instant, excluded (ISO 8601).")]


class Grouping(StrEnum):
    MODEL = "model"
    DAY = "day"


GROUPS: dict[Grouping, Literal["model", "day"]] = {Grouping.MODEL: "model",
                                                   Grouping.DAY: "day"}


@app.command("wallet")
def wallet(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show your balances, plan, period end, monthly cap, models and this month's burn."""
    run = Invocation(ctx, as_json=as_json)
    view = run.call(lambda s: s.use_cases.get_wallet(s.actor))
    run.out.emit(views.wallet_data(view), views.wallet_panel)


@app.command("ledger")
def ledger(ctx: typer.Context,
           limit: Annotated[int, typer.Option("--limit", min=1, max=200,
                                              help="How many entries (newest).")] = 50,
           as_json: JsonFlag = False) -> None:
    """List your credit transactions, newest first."""
    run = Invocation(ctx, as_json=as_json)
    entries = run.call(lambda s: s.use_cases.list_ledger(s.actor, limit=limit))
    run.out.emit(views.ledger_data(entries), views.ledger_table)


@app.command("usage")
def usage(ctx: typer.Context,
          by: Annotated[Grouping, typer.Option("--by", help="Group by model alias or by "
                                                            "UTC day.")] = Grouping.MODEL,
          start: FromOption = None, end: ToOption = None, as_json: JsonFlag = False) -> None:
    """Your LLM calls, tokens, credits and provider cost (default: this month), with totals."""
    run = Invocation(ctx, as_json=as_json)
    since, until = instant(run.out, "--from", start), instant(run.out, "--to", end, upper=True)
    rows = run.call(lambda s: s.use_cases.usage_report(s.actor, by=GROUPS[by], start=since,
                                                       end=until))
    run.out.emit(views.usage_data(rows, by=by.value, start=iso(since), end=iso(until)),
                 views.usage_table)


@app.command("quote")
def quote(ctx: typer.Context,
          model: Annotated[str, typer.Option("--model", metavar="ALIAS", help="A model alias.")],
          prompt_tokens: Annotated[int, typer.Option("--prompt-tokens", min=0)],
          completion_tokens: Annotated[int, typer.Option("--completion-tokens", min=0)],
          cached_tokens: Annotated[int | None, typer.Option(
              "--cached-tokens", min=0, help="Omit when not reported: all prompt tokens are "
                                             "then fresh.")] = None,
          pricing_version: Annotated[str | None, typer.Option(
              "--pricing-version", metavar="V", help="Default: the version in force.")] = None,
          web_searches: Annotated[int, typer.Option("--web-searches", min=0)] = 0,
          file_reads: Annotated[int, typer.Option("--file-reads", min=0)] = 0,
          as_json: JsonFlag = False) -> None:
    """What one call would cost in credits, with the formula's steps (DESIGN §5)."""
    run = Invocation(ctx, as_json=as_json)
    tools = {"web_search": web_searches, "read_file": file_reads}
    found = run.call(lambda s: s.use_cases.quote_call(
        model_alias=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
        cached_tokens=cached_tokens, pricing_version=pricing_version, tool_calls=tools),
        identity=Identity.NONE)
    run.out.emit(views.quote_data(found, tool_calls=tools), views.quote_panel)


@app.command("grant")
def grant(ctx: typer.Context,
          email: Annotated[str, typer.Argument(metavar="EMAIL", help="Who gets the credits.")],
          amount: Annotated[str, typer.Argument(metavar="CREDITS", help="e.g. 50 or 12.5")],
          reason: Annotated[str, typer.Option("--reason", metavar="TEXT",
                                              help="Why (audited), 3-500 characters.")],
          as_json: JsonFlag = False) -> None:
    """Grant top-up credits to a user (owners and the local operator; audited)."""
    run = Invocation(ctx, as_json=as_json)
    entry = run.call(lambda s: s.use_cases.grant_credits(s.actor, email, amount, reason=reason),
                     identity=Identity.USER_OR_OPERATOR)
    data = views.GrantData(email=email.strip().lower(), entry=views.entry_data(entry))
    run.out.emit(data, views.granted)


@app.command("reconcile")
def reconcile(ctx: typer.Context, start: FromOption = None, end: ToOption = None,
              as_json: JsonFlag = False) -> None:
    """Recompute every usage row's credits and check every wallet against its ledger;
    exits 1 when anything disagrees (admins and the local operator)."""
    run = Invocation(ctx, as_json=as_json)
    since, until = instant(run.out, "--from", start), instant(run.out, "--to", end, upper=True)
    with views.reconcile_progress(run.out.stderr) as tick:
        report = run.call(lambda s: s.use_cases.reconcile(s.actor, start=since, end=until,
                                                          progress=tick),
                          identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.reconcile_data(report), views.reconcile_table)
    if report.discrepancies:
        raise typer.Exit(EXIT_ERROR)


@app.command("checkout")
def checkout(ctx: typer.Context,
             plan: Annotated[str | None, typer.Option("--plan", metavar="ID",
                                                      help="starter, pro or power.")] = None,
             pack: Annotated[str | None, typer.Option("--pack", metavar="ID",
                                                      help="A top-up pack.")] = None,
             as_json: JsonFlag = False) -> None:
    """Print a Stripe checkout link for a plan or a top-up pack."""
    run = Invocation(ctx, as_json=as_json)
    if (plan is None) == (pack is None):
        run.out.usage_error("invalid_checkout", "Pass exactly one of --plan and --pack.")

    async def start(s: Session) -> str:
        return await s.use_cases.start_checkout(s.actor, plan_id=plan, pack_id=pack)

    run.out.emit({"url": run.call(start)}, _url, soft_wrap=True)


@app.command("portal")
def portal(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Print a link to Stripe's billing portal (manage or cancel the subscription)."""
    run = Invocation(ctx, as_json=as_json)
    url = run.call(lambda s: s.use_cases.open_portal(s.actor))
    run.out.emit({"url": url}, _url, soft_wrap=True)


def _url(data: dict[str, str]) -> str:
    return data["url"]


def instant(out: Output, option: str, value: str | None, *, upper: bool = False
            ) -> datetime | None:
    """``YYYY-MM-DD`` as midnight UTC (with ``upper``, the next midnight: the day is
    included), or an ISO 8601 instant (UTC when it has no zone)."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        midnight = datetime.combine(day, time(), tzinfo=UTC)
        return midnight + timedelta(days=1) if upper else midnight
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        out.usage_error("invalid_date", f"{option} wants YYYY-MM-DD or an ISO 8601 instant, "
                                        f"not {value!r}.")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
