"""``pantheon admin``: admin roles, users and their controls, analytics, the audit log
and rollups.

Without ``--as`` these run as the local operator (whoever holds the database
credentials), which is how the first owner gets granted; with ``--as`` core decides
whether that user may (owners write, analysts read). Every write is audited, tagged
``client="cli"``. Days are ``YYYY-MM-DD`` (UTC); ``--to`` is included; the default range
is the current month up to today. ``--csv`` prints an analytics table for scripts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from rich.console import RenderableType

from pantheon_cli.options import JsonFlag
from pantheon_cli.output import Output
from pantheon_cli.runner import Identity, Invocation, Session
from pantheon_cli.views import admin as views

app = typer.Typer(help="Admin: roles, users and their controls, usage and costs, the audit "
                       "log and rollups.", no_args_is_help=True)
D = TypeVar("D")

Email = Annotated[str, typer.Argument(metavar="EMAIL", help="The user's e-mail address.")]
RoleOption = Annotated[str, typer.Option("--role", metavar="ROLE", help="owner or analyst.")]


@app.command("grant")
def grant(ctx: typer.Context, email: Email, role: RoleOption, as_json: JsonFlag = False) -> None:
    """Grant an admin role (the user is created if they never signed in)."""
    run = Invocation(ctx, as_json=as_json)
    profile = run.call(lambda s: s.use_cases.set_role(s.actor, email, role, granted=True),
                       identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.profile_data(profile), views.role_changed("granted", role.strip().lower()))


@app.command("revoke")
def revoke(ctx: typer.Context, email: Email, role: RoleOption, as_json: JsonFlag = False) -> None:
    """Revoke an admin role."""
    run = Invocation(ctx, as_json=as_json)
    profile = run.call(lambda s: s.use_cases.set_role(s.actor, email, role, granted=False),
                       identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.profile_data(profile), views.role_changed("revoked", role.strip().lower()))


@app.command("list")
def list_admins(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List everyone holding an admin role."""
    run = Invocation(ctx, as_json=as_json)
    admins = run.call(lambda s: s.use_cases.list_admins(s.actor),
                      identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.profiles_data(admins), views.admins_table)


# --- users and their controls ---------------------------------------------------------------

ReasonOption = Annotated[str, typer.Option("--reason", metavar="TEXT",
                                           help="Why (audited), 3-500 characters.")]


@app.command("users")
def users(ctx: typer.Context,
          search: Annotated[str | None, typer.Option("--search", metavar="TEXT",
                                                     help="Part of an e-mail or name.")] = None,
          status: Annotated[str | None, typer.Option("--status", metavar="STATUS",
                                                     help="active or suspended.")] = None,
          after: Annotated[str | None, typer.Option("--after", metavar="EMAIL",
                                                    help="Start after this e-mail.")] = None,
          limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
          as_json: JsonFlag = False) -> None:
    """List users by e-mail, with balances, this month's burn and caps (admins)."""
    run = Invocation(ctx, as_json=as_json)
    found = run.call(lambda s: s.use_cases.admin_list_users(
        s.actor, search=search, status=status, after=after, limit=limit),
        identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.users_data(found), views.users_table)


@app.command("user")
def user(ctx: typer.Context, email: Email, as_json: JsonFlag = False) -> None:
    """Show one user: status, roles, wallet, cap, model policy, running turns (admins)."""
    run = Invocation(ctx, as_json=as_json)
    found = run.call(lambda s: s.use_cases.admin_get_user(s.actor, email),
                     identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.user_data(found), views.user_panel)


@app.command("cap")
def cap(ctx: typer.Context, email: Email,
        amount: Annotated[str | None, typer.Argument(metavar="[CREDITS]",
                                                     help="The monthly cap, in credits.")] = None,
        clear: Annotated[bool, typer.Option("--clear", help="Remove the cap.")] = False,
        as_json: JsonFlag = False) -> None:
    """Set (or --clear) a user's monthly credit cap (owners; audited)."""
    run = Invocation(ctx, as_json=as_json)
    if (amount is None) != clear:
        run.out.usage_error("invalid_cap", "Give CREDITS, or --clear (one of them).")
    found = run.call(lambda s: s.use_cases.admin_set_cap(s.actor, email, amount),
                     identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.user_data(found), views.user_panel)


@app.command("suspend")
def suspend(ctx: typer.Context, email: Email, reason: ReasonOption,
            as_json: JsonFlag = False) -> None:
    """Suspend a user (owners; audited).

    Their running turns are cancelled and sign-in and API calls refused
    (account_suspended); their data is kept.
    """
    run = Invocation(ctx, as_json=as_json)
    found = run.call(lambda s: s.use_cases.admin_set_user_status(
        s.actor, email, suspended=True, reason=reason), identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.user_data(found), views.user_panel)


@app.command("reactivate")
def reactivate(ctx: typer.Context, email: Email, reason: ReasonOption,
               as_json: JsonFlag = False) -> None:
    """Reactivate a suspended user (owners; audited)."""
    run = Invocation(ctx, as_json=as_json)
    found = run.call(lambda s: s.use_cases.admin_set_user_status(
        s.actor, email, suspended=False, reason=reason), identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.user_data(found), views.user_panel)


def _aliases(value: str | None) -> list[str]:
    return [a.strip() for a in (value or "").split(",") if a.strip()]


@app.command("policy")
def policy(ctx: typer.Context, email: Email,
           allow: Annotated[str | None, typer.Option("--allow", metavar="A,B",
                                                     help="Allow exactly these aliases.")] = None,
           deny: Annotated[str | None, typer.Option("--deny", metavar="A,B",
                                                    help="Take these from the plan's.")] = None,
           clear: Annotated[bool, typer.Option("--clear", help="Drop the policy.")] = False,
           as_json: JsonFlag = False) -> None:
    """Set a user's model access policy on top of their plan (owners; audited)."""
    run = Invocation(ctx, as_json=as_json)
    if sum((allow is not None, deny is not None, clear)) != 1:
        run.out.usage_error("invalid_policy", "Give --allow, --deny or --clear (one of them).")
    found = run.call(lambda s: s.use_cases.admin_set_model_policy(
        s.actor, email, allow=_aliases(allow), deny=_aliases(deny), clear=clear),
        identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.user_data(found), views.user_panel)


@app.command("manager-model")
def manager_model(ctx: typer.Context,
                  alias: Annotated[str, typer.Argument(metavar="ALIAS",
                                                       help="A model alias.")],
                  as_json: JsonFlag = False) -> None:
    """Choose the orchestrator's manager model for every room (owners; audited)."""
    run = Invocation(ctx, as_json=as_json)
    chosen = run.call(lambda s: s.use_cases.set_manager_model(s.actor, alias),
                      identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.ManagerModelView(manager_model=chosen.value), views.manager_model_set)


# --- analytics ------------------------------------------------------------------------------

FromOption = Annotated[str | None, typer.Option(
    "--from", metavar="DATE", help="The first UTC day (YYYY-MM-DD); default the 1st of the "
                                   "month of --to.")]
ToOption = Annotated[str | None, typer.Option(
    "--to", metavar="DATE", help="The last UTC day, included (YYYY-MM-DD); default today.")]
CsvFlag = Annotated[bool, typer.Option("--csv", help="Print CSV (a header row, then one row "
                                                     "per line) for scripts.")]


class TopOf(StrEnum):
    USERS = "users"
    MODELS = "models"


class TopBy(StrEnum):
    COST = "cost"
    TOKENS = "tokens"


def _day(out: Output, option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        out.usage_error("invalid_date", f"{option} wants a day as YYYY-MM-DD, not {value!r}.")


def _range(run: Invocation, start: str | None, end: str | None
           ) -> Callable[[Session], tuple[date, date]]:
    """``[first, stop)`` from --from and an inclusive --to, resolved against the clock."""
    first, last = _day(run.out, "--from", start), _day(run.out, "--to", end)

    def resolve(session: Session) -> tuple[date, date]:
        to = last or session.container.clock.now().astimezone(UTC).date()
        return first or to.replace(day=1), to + timedelta(days=1)

    return resolve


def _show(run: Invocation, data: D, render: Callable[[D], RenderableType],
          table: Callable[[D], views.CsvTable] | None = None) -> None:
    """``data`` as JSON, a table, or (``table`` given) CSV on stdout."""
    if table is None:
        run.out.emit(data, render)
        return
    columns, rows = table(data)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    typer.echo(buffer.getvalue(), nl=False)


def _analytics(ctx: typer.Context, as_json: bool, as_csv: bool) -> Invocation:
    run = Invocation(ctx, as_json=as_json)
    if as_json and as_csv:
        run.out.usage_error("invalid_format", "Pass --json or --csv, not both.")
    return run


@app.command("usage")
def usage(ctx: typer.Context,
          by: Annotated[str, typer.Option("--by", metavar="DIMS",
                                          help="Any of user, model, day, month, "
                                               "comma-separated.")] = "user,model",
          start: FromOption = None, end: ToOption = None,
          limit: Annotated[int | None, typer.Option(
              "--limit", metavar="N", help="At most N rows, most credits first (totals "
                                           "still cover all).")] = None,
          offset: Annotated[int, typer.Option("--offset", metavar="N",
                                              help="Skip the first N rows.")] = 0,
          as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """Tokens, credits and provider cost per user and model (admins)."""
    run = _analytics(ctx, as_json, as_csv)
    days = _range(run, start, end)

    async def report(s: Session) -> views.UsageReportView:
        first, stop = days(s)
        found = await s.use_cases.admin_usage(s.actor, start=first, end=stop,
                                              by=_aliases(by), limit=limit, offset=offset)
        return views.usage_report_data(found)

    data = run.call(report, identity=Identity.USER_OR_OPERATOR)
    _show(run, data, views.usage_report_table, views.usage_csv if as_csv else None)


@app.command("costs")
def costs(ctx: typer.Context, start: FromOption = None, end: ToOption = None,
          as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """Provider cost vs internal cost, and the margin, per day (admins).

    Internal cost is credits × the configured value of a credit.
    """
    run = _analytics(ctx, as_json, as_csv)
    days = _range(run, start, end)

    async def report(s: Session) -> views.CostsView:
        first, stop = days(s)
        return views.costs_data(await s.use_cases.admin_costs(s.actor, start=first, end=stop))

    data = run.call(report, identity=Identity.USER_OR_OPERATOR)
    _show(run, data, views.costs_table, views.costs_csv if as_csv else None)


@app.command("active")
def active(ctx: typer.Context,
           day: Annotated[str | None, typer.Option("--day", metavar="DATE",
                                                   help="The last day counted; default "
                                                        "today.")] = None,
           start: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                                     help="Where the series start; default "
                                                          "29 days before.")] = None,
           as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """DAU, WAU and MAU on a day, and daily active users since --from (admins)."""
    run = _analytics(ctx, as_json, as_csv)
    last, first = _day(run.out, "--day", day), _day(run.out, "--from", start)
    found = run.call(lambda s: s.use_cases.admin_active_users(s.actor, day=last, start=first),
                     identity=Identity.USER_OR_OPERATOR)
    _show(run, views.active_data(found), views.active_table,
          views.active_csv if as_csv else None)


@app.command("top")
def top(ctx: typer.Context,
        by: Annotated[TopBy, typer.Option("--by", help="Rank by credits or tokens.")
                      ] = TopBy.COST,
        of: Annotated[TopOf, typer.Option("--of", help="Rank users or models.")
                      ] = TopOf.USERS,
        start: FromOption = None, end: ToOption = None,
        limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 10,
        as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """The top users or models by cost or tokens (admins)."""
    run = _analytics(ctx, as_json, as_csv)
    days = _range(run, start, end)

    async def report(s: Session) -> views.TopView:
        first, stop = days(s)
        rows = await s.use_cases.admin_top(s.actor, of=of.value, by=by.value, start=first,
                                           end=stop, limit=limit)
        return views.top_data(rows, of=of.value, by=by.value, start=first, end=stop)

    data = run.call(report, identity=Identity.USER_OR_OPERATOR)
    _show(run, data, views.top_table, views.top_csv if as_csv else None)


# --- the audit log and rollups --------------------------------------------------------------


def _instant(out: Output, option: str, value: str | None) -> datetime | None:
    """``YYYY-MM-DD`` as midnight UTC, or an ISO 8601 instant (UTC when it has no zone)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        out.usage_error("invalid_date", f"{option} wants YYYY-MM-DD or an ISO 8601 instant, "
                                        f"not {value!r}.")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@app.command("audit")
def audit(ctx: typer.Context,
          actor: Annotated[str | None, typer.Option("--actor", metavar="WHO",
                                                    help="An actor's e-mail or id, or "
                                                         "operator.")] = None,
          action: Annotated[str | None, typer.Option("--action", metavar="ACTION",
                                                     help="An action or its prefix, e.g. "
                                                          "admin.user.")] = None,
          target: Annotated[str | None, typer.Option("--target", metavar="TARGET",
                                                     help="E.g. a user's e-mail.")] = None,
          outcome: Annotated[str | None, typer.Option("--outcome", metavar="OUTCOME",
                                                      help="ok or refused.")] = None,
          since: Annotated[str | None, typer.Option("--since", metavar="WHEN",
                                                    help="From this day or instant.")] = None,
          until: Annotated[str | None, typer.Option("--until", metavar="WHEN",
                                                    help="Before this day or instant.")] = None,
          limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
          as_json: JsonFlag = False) -> None:
    """The audit log of admin actions (and refused attempts), newest first (admins)."""
    run = Invocation(ctx, as_json=as_json)
    start, stop = _instant(run.out, "--since", since), _instant(run.out, "--until", until)
    events = run.call(lambda s: s.use_cases.admin_list_audit(
        s.actor, actor_ref=actor, action=action, target=target, outcome=outcome, since=start,
        until=stop, limit=limit), identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.audit_data(events), views.audit_table)


@app.command("rollup")
def rollup(ctx: typer.Context, start: Annotated[str | None, typer.Option(
               "--from", metavar="DATE",
               help="Default: only the events recorded since the last run.")] = None,
           end: Annotated[str | None, typer.Option(
               "--to", metavar="DATE", help="The last day, included; default today.")] = None,
           as_json: JsonFlag = False) -> None:
    """Roll up the usage events recorded since the last run, or with --from/--to recompute
    those days from the raw events, a month at a time (owners).

    The worker runs it every minute; a range is for a backfill or a repair.
    """
    run = Invocation(ctx, as_json=as_json)
    first, last = _day(run.out, "--from", start), _day(run.out, "--to", end)
    stop = None if last is None else last + timedelta(days=1)
    months = None if first is None or last is None else _months(first, last)
    with views.rollup_progress(run.out.stderr, months) as tick:
        result = run.call(lambda s: s.use_cases.rollup_usage(s.actor, start=first, end=stop,
                                                             progress=tick),
                          identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.rollup_data(result), views.rolled_up)


def _months(first: date, last: date) -> int:
    """How many calendar months ``[first, last]`` touches (the job does one at a time)."""
    return max(1, (last.year - first.year) * 12 + last.month - first.month + 1)
